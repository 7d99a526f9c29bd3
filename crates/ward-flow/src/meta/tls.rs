//! TLS ClientHello: server name (SNI), versions, ALPN, and the JA3 and JA4 client
//! fingerprints.

use md5::Md5;
use sha2::{Digest, Sha256};

use super::{Fields, put};

/// What a ClientHello offers, in wire order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// `legacy_version` of the hello.
    pub version: u16,
    /// Cipher suites.
    pub ciphers: Vec<u16>,
    /// Extension types.
    pub extensions: Vec<u16>,
    /// Supported groups (elliptic curves).
    pub groups: Vec<u16>,
    /// EC point formats.
    pub point_formats: Vec<u8>,
    /// Signature algorithms.
    pub signature_algorithms: Vec<u16>,
    /// `supported_versions` entries.
    pub supported_versions: Vec<u16>,
    /// ALPN protocol names.
    pub alpn: Vec<String>,
    /// Server name indication.
    pub sni: Option<String>,
}

/// GREASE values (RFC 8701) are left out of fingerprints.
fn grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

struct Cur<'a>(&'a [u8]);

impl<'a> Cur<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = usize::from(self.u8()?);
        self.take(n)
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = usize::from(self.u16()?);
        self.take(n)
    }
}

fn u16s(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect()
}

/// Parses a TLS record that carries a ClientHello (possibly cut short after the extensions
/// start: what is there is used).
pub fn parse_client_hello(payload: &[u8]) -> Option<ClientHello> {
    if payload.len() < 9 || payload[0] != 0x16 || payload[1] != 3 || payload[5] != 1 {
        return None;
    }
    let mut c = Cur(&payload[9..]);
    let mut h = ClientHello { version: c.u16()?, ..ClientHello::default() };
    c.take(32)?;
    c.vec8()?;
    h.ciphers = u16s(c.vec16()?);
    c.vec8()?;
    let Some(ext) = c.vec16() else { return Some(h) };
    let mut e = Cur(ext);
    while let (Some(t), Some(body)) = (e.u16(), e.vec16()) {
        h.extensions.push(t);
        let mut b = Cur(body);
        match t {
            0 => {
                let mut list = Cur(b.vec16().unwrap_or_default());
                if list.u8() == Some(0)
                    && let Some(name) = list.vec16()
                {
                    h.sni = Some(String::from_utf8_lossy(name).into_owned());
                }
            }
            10 => h.groups = u16s(b.vec16().unwrap_or_default()),
            11 => h.point_formats = b.vec8().unwrap_or_default().to_vec(),
            13 => h.signature_algorithms = u16s(b.vec16().unwrap_or_default()),
            16 => {
                let mut list = Cur(b.vec16().unwrap_or_default());
                while let Some(p) = list.vec8() {
                    h.alpn.push(String::from_utf8_lossy(p).into_owned());
                }
            }
            43 => h.supported_versions = u16s(b.vec8().unwrap_or_default()),
            _ => {}
        }
    }
    Some(h)
}

fn join<T: std::fmt::Display>(v: impl Iterator<Item = T>, sep: &str) -> String {
    v.map(|x| x.to_string()).collect::<Vec<_>>().join(sep)
}

impl ClientHello {
    /// The JA3 string (`version,ciphers,extensions,groups,point formats`).
    pub fn ja3_string(&self) -> String {
        let ng = |v: &Vec<u16>| join(v.iter().filter(|x| !grease(**x)), "-");
        format!(
            "{},{},{},{},{}",
            self.version,
            ng(&self.ciphers),
            ng(&self.extensions),
            ng(&self.groups),
            join(self.point_formats.iter(), "-")
        )
    }

    /// JA3: MD5 of [`ClientHello::ja3_string`], lowercase hex.
    pub fn ja3(&self) -> String {
        hex(&Md5::digest(self.ja3_string().as_bytes()))
    }

    /// JA4 (TLS over TCP): `t<version><d|i><ciphers><extensions><alpn>_<ciphers hash>_<extensions hash>`.
    pub fn ja4(&self) -> String {
        let version =
            self.supported_versions.iter().copied().filter(|v| !grease(*v)).max().unwrap_or(self.version);
        let v = match version {
            0x0304 => "13",
            0x0303 => "12",
            0x0302 => "11",
            0x0301 => "10",
            0x0300 => "s3",
            _ => "00",
        };
        let sni = if self.sni.is_some() { 'd' } else { 'i' };
        let ciphers: Vec<u16> = self.ciphers.iter().copied().filter(|c| !grease(*c)).collect();
        let exts: Vec<u16> = self.extensions.iter().copied().filter(|e| !grease(*e)).collect();
        let alpn = match self.alpn.first().map(|a| a.as_bytes()) {
            Some([first, .., last]) => format!("{}{}", *first as char, *last as char),
            Some([only]) => format!("{}{}", *only as char, *only as char),
            _ => "00".to_owned(),
        };
        let a = format!("t{v}{sni}{:02}{:02}{alpn}", ciphers.len().min(99), exts.len().min(99));
        let mut sorted_c = ciphers.clone();
        sorted_c.sort_unstable();
        let b = hash12(&join(sorted_c.iter().map(|c| format!("{c:04x}")), ","), sorted_c.is_empty());
        let mut sorted_e: Vec<u16> = exts.into_iter().filter(|e| *e != 0 && *e != 16).collect();
        sorted_e.sort_unstable();
        let mut text = join(sorted_e.iter().map(|e| format!("{e:04x}")), ",");
        if !self.signature_algorithms.is_empty() {
            text.push('_');
            text.push_str(&join(self.signature_algorithms.iter().map(|s| format!("{s:04x}")), ","));
        }
        let c = hash12(&text, sorted_e.is_empty());
        format!("{a}_{b}_{c}")
    }
}

fn hash12(text: &str, empty: bool) -> String {
    if empty {
        return "000000000000".to_owned();
    }
    hex(&Sha256::digest(text.as_bytes()))[..12].to_owned()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn version_name(v: u16) -> &'static str {
    match v {
        0x0304 => "1.3",
        0x0303 => "1.2",
        0x0302 => "1.1",
        0x0301 => "1.0",
        0x0300 => "3.0",
        _ => "unknown",
    }
}

/// The ClientHello's ECS fields, `None` when the payload does not start one.
pub(super) fn client_hello(payload: &[u8]) -> Option<Fields> {
    let h = parse_client_hello(payload)?;
    let mut f = Fields::new();
    put(&mut f, "tls.client.ja3", h.ja3());
    put(&mut f, "tls.client.ja3_string", h.ja3_string());
    put(&mut f, "tls.client.ja4", h.ja4());
    let best = h.supported_versions.iter().copied().filter(|v| !grease(*v)).max().unwrap_or(h.version);
    put(&mut f, "tls.version", version_name(best));
    put(&mut f, "tls.version_protocol", "tls");
    if let Some(sni) = &h.sni {
        put(&mut f, "tls.client.server_name", sni.clone());
    }
    if !h.alpn.is_empty() {
        put(&mut f, "tls.client.supported_protocols", h.alpn.clone());
    }
    Some(f)
}
