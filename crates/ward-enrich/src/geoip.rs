//! GeoIP and ASN from MaxMind databases, hot-reloaded when a file changes.
//!
//! For each side (`source`, `destination`) whose `.ip` is a global address:
//! - City/Country/Enterprise database → `<side>.geo.{country_iso_code, country_name,
//!   city_name, continent_code, continent_name, region_iso_code, region_name, postal_code,
//!   timezone, location.lat, location.lon}` (ECS; names in English);
//! - ASN/ISP database → `<side>.as.number`, `<side>.as.organization.name`;
//! - Anonymous-IP database → `ward.anonymizer.<side>.{is_anonymous, is_anonymous_vpn,
//!   is_hosting_provider, is_public_proxy, is_residential_proxy, is_tor_exit_node}` (the flags
//!   the database states).
//!
//! Loading checks the database type against its slot and, with `verify` (the default), walks
//! the whole file, so a truncated or damaged database is refused at startup with its path and
//! the reason. A lookup error in service (a record the walk could not reach) is counted in
//! `ward_enrich_geoip_errors_total` and leaves the event without geo fields.
//!
//! Reload: [`GeoIp::reload_if_changed`] compares each file's modification time and length with
//! the loaded one; a changed file is loaded off to the side and swapped in atomically
//! (`ArcSwap`), so lookups never wait. A file that fails to load keeps the old database in
//! service and counts `ward_enrich_geoip_reload_failures_total`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use maxminddb::{Reader, geoip2};
use ward_model::{Event, FieldValue};

use crate::config::GeoIpConfig;
use crate::error::EnrichError;

/// Which kind of database fills a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Geography (City, Country, Enterprise).
    City,
    /// Autonomous system (GeoLite2-ASN, GeoIP2-ISP).
    Asn,
    /// Anonymizer flags (GeoIP2-Anonymous-IP).
    Anonymous,
}

impl Slot {
    fn accepts(self, database_type: &str) -> bool {
        let t = database_type;
        match self {
            Self::City => t.contains("City") || t.contains("Country") || t.contains("Enterprise"),
            Self::Asn => t.contains("ASN") || t.contains("ISP"),
            Self::Anonymous => t.contains("Anonymous"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::City => "city",
            Self::Asn => "asn",
            Self::Anonymous => "anonymous",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

#[derive(Debug)]
struct Db {
    slot: Slot,
    path: PathBuf,
    verify: bool,
    reader: ArcSwap<Reader<Vec<u8>>>,
    stamp: Mutex<Stamp>,
}

/// The loaded databases.
#[derive(Debug)]
pub struct GeoIp {
    dbs: Vec<Db>,
}

/// What one event got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GeoHits {
    /// Sides given geography.
    pub geo: u32,
    /// Sides given an AS.
    pub asn: u32,
    /// Sides given anonymizer flags.
    pub anonymous: u32,
}

const SIDES: [&str; 2] = ["source", "destination"];

impl GeoIp {
    /// Opens every configured database; the first bad one is an error naming it.
    pub fn open(cfg: &GeoIpConfig) -> Result<Self, EnrichError> {
        let slots = [(Slot::City, &cfg.city), (Slot::Asn, &cfg.asn), (Slot::Anonymous, &cfg.anonymous)];
        let mut dbs = Vec::new();
        for (slot, path) in slots {
            let Some(path) = path else { continue };
            let (reader, stamp) = load(path, slot, cfg.verify)?;
            dbs.push(Db {
                slot,
                path: path.clone(),
                verify: cfg.verify,
                reader: ArcSwap::from_pointee(reader),
                stamp: Mutex::new(stamp),
            });
        }
        Ok(Self { dbs })
    }

    /// Whether no database is configured.
    pub fn is_empty(&self) -> bool {
        self.dbs.is_empty()
    }

    /// Reloads every database whose file changed; returns how many were swapped in. Files that
    /// fail to load are reported in the error and the old database stays in service.
    pub fn reload_if_changed(&self) -> Result<usize, EnrichError> {
        let mut swapped = 0;
        let mut first_error = None;
        for db in &self.dbs {
            let mut stamp = db.stamp.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let Ok(now) = stamp_of(&db.path) else {
                metrics::counter!("ward_enrich_geoip_reload_failures_total").increment(1);
                first_error.get_or_insert(EnrichError::GeoIp {
                    path: db.path.clone(),
                    reason: "cannot read file metadata".into(),
                });
                continue;
            };
            if now == *stamp {
                continue;
            }
            match load(&db.path, db.slot, db.verify) {
                Ok((reader, loaded)) => {
                    db.reader.store(std::sync::Arc::new(reader));
                    *stamp = loaded;
                    swapped += 1;
                    tracing::info!(path = %db.path.display(), slot = db.slot.name(), "geoip database reloaded");
                }
                Err(e) => {
                    metrics::counter!("ward_enrich_geoip_reload_failures_total").increment(1);
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(swapped),
        }
    }

    /// Adds geography, AS and anonymizer fields for both sides of the event.
    pub fn enrich(&self, ev: &mut Event) -> GeoHits {
        let mut hits = GeoHits::default();
        for side in SIDES {
            let Some(ip) = side_ip(ev, side) else { continue };
            for db in &self.dbs {
                let reader = db.reader.load();
                let found = match db.slot {
                    Slot::City => city(&reader, ip, ev, side).map(|f| (f, &mut hits.geo)),
                    Slot::Asn => asn(&reader, ip, ev, side).map(|f| (f, &mut hits.asn)),
                    Slot::Anonymous => anonymous(&reader, ip, ev, side).map(|f| (f, &mut hits.anonymous)),
                };
                match found {
                    Ok((true, counter)) => *counter += 1,
                    Ok((false, _)) => {}
                    Err(e) => {
                        metrics::counter!("ward_enrich_geoip_errors_total", "slot" => db.slot.name())
                            .increment(1);
                        tracing::debug!(path = %db.path.display(), %ip, error = %e, "geoip lookup failed");
                    }
                }
            }
        }
        hits
    }
}

fn stamp_of(path: &Path) -> std::io::Result<Stamp> {
    let meta = std::fs::metadata(path)?;
    Ok(Stamp { modified: meta.modified().ok(), len: meta.len() })
}

fn load(path: &Path, slot: Slot, verify: bool) -> Result<(Reader<Vec<u8>>, Stamp), EnrichError> {
    let err = |reason: String| EnrichError::GeoIp { path: path.to_owned(), reason };
    let stamp = stamp_of(path).map_err(|e| err(format!("cannot open: {e}")))?;
    let reader =
        Reader::open_readfile(path).map_err(|e| err(format!("not a readable MaxMind database: {e}")))?;
    let db_type = reader.metadata().database_type.clone();
    if !slot.accepts(&db_type) {
        return Err(err(format!("database type `{db_type}` cannot serve as the `{}` database", slot.name())));
    }
    if verify {
        reader.verify().map_err(|e| err(format!("damaged database (verification failed): {e}")))?;
    }
    Ok((reader, stamp))
}

/// The side's address when it is worth a lookup (global unicast).
fn side_ip(ev: &Event, side: &str) -> Option<IpAddr> {
    let value = match side {
        "source" => ev.get("source.ip"),
        _ => ev.get("destination.ip"),
    }?;
    let ip = match value {
        FieldValue::Ip(ip) => *ip,
        FieldValue::Str(s) => s.parse().ok()?,
        _ => return None,
    };
    crate::is_global(ip).then_some(ip)
}

type Lookup = Result<bool, maxminddb::MaxMindDbError>;

fn city(reader: &Reader<Vec<u8>>, ip: IpAddr, ev: &mut Event, side: &str) -> Lookup {
    let Some(rec) = reader.lookup(ip)?.decode::<geoip2::City>()? else { return Ok(false) };
    let mut set = |field: &str, value: Option<FieldValue>| {
        if let Some(v) = value {
            ev.set(&format!("{side}.geo.{field}"), v);
        }
    };
    let s = |v: Option<&str>| v.map(FieldValue::from);
    set("country_iso_code", s(rec.country.iso_code));
    set("country_name", s(rec.country.names.english));
    set("city_name", s(rec.city.names.english));
    set("continent_code", s(rec.continent.code));
    set("continent_name", s(rec.continent.names.english));
    if let Some(sub) = rec.subdivisions.first() {
        let region = match (rec.country.iso_code, sub.iso_code) {
            (Some(c), Some(r)) => Some(FieldValue::from(format!("{c}-{r}"))),
            _ => None,
        };
        set("region_iso_code", region);
        set("region_name", s(sub.names.english));
    }
    set("postal_code", s(rec.postal.code));
    set("timezone", s(rec.location.time_zone));
    if let (Some(lat), Some(lon)) = (rec.location.latitude, rec.location.longitude) {
        set("location.lat", Some(FieldValue::Float(lat)));
        set("location.lon", Some(FieldValue::Float(lon)));
    }
    Ok(rec.country.iso_code.is_some() || rec.city.names.english.is_some() || rec.continent.code.is_some())
}

fn asn(reader: &Reader<Vec<u8>>, ip: IpAddr, ev: &mut Event, side: &str) -> Lookup {
    let Some(rec) = reader.lookup(ip)?.decode::<geoip2::Asn>()? else { return Ok(false) };
    if let Some(n) = rec.autonomous_system_number {
        ev.set(&format!("{side}.as.number"), i64::from(n));
    }
    if let Some(org) = rec.autonomous_system_organization {
        ev.set(&format!("{side}.as.organization.name"), org);
    }
    Ok(rec.autonomous_system_number.is_some())
}

fn anonymous(reader: &Reader<Vec<u8>>, ip: IpAddr, ev: &mut Event, side: &str) -> Lookup {
    let Some(rec) = reader.lookup(ip)?.decode::<geoip2::AnonymousIp>()? else { return Ok(false) };
    let flags = [
        ("is_anonymous", rec.is_anonymous),
        ("is_anonymous_vpn", rec.is_anonymous_vpn),
        ("is_hosting_provider", rec.is_hosting_provider),
        ("is_public_proxy", rec.is_public_proxy),
        ("is_residential_proxy", rec.is_residential_proxy),
        ("is_tor_exit_node", rec.is_tor_exit_node),
    ];
    let mut any = false;
    for (name, flag) in flags {
        if let Some(flag) = flag {
            any = true;
            ev.set(&format!("ward.anonymizer.{side}.{name}"), flag);
        }
    }
    Ok(any)
}
