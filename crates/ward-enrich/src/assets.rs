//! The asset inventory: which hosts matter and how much, from a CSV file or the API, swapped
//! in atomically; events and alerts get `ward.asset.*`.
//!
//! CSV: a header naming the columns `name,ip_or_cidr,owner,criticality,tags` (any order,
//! case-insensitive), then one row per asset. `ip_or_cidr` holds zero or more addresses or
//! networks separated by `;`, `|` or spaces (a network with host bits set is truncated);
//! `tags` are separated by `;` or `|`; `criticality` is `low`, `medium`, `high` or `critical`.
//! Quoted fields (RFC 4180, `""` for a quote) may contain separators and newlines. Rows with
//! the same name are one asset (their addresses and tags merged; owner and criticality must
//! agree). Every problem is reported with its 1-based line and column, all at once.
//!
//! Matching an event, first hit wins, in this order: `host.name` (exact, case-insensitive,
//! then its first label: `web01.corp` matches asset `web01`), `host.ip`, `destination.ip`,
//! `source.ip`, `observer.hostname`. Addresses match the longest listed prefix. The event gets
//! `ward.asset.{name, criticality, owner, tags, matched_field}`. An alert gets the matching
//! asset of highest criticality among its entities (same field order breaks ties).

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use ipnet::IpNet;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use ward_model::{AlertRecord, Event, FieldValue};

/// How much an asset matters; ordered `Low < Medium < High < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Criticality {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Criticality {
    /// The lowercase name used in fields and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// A multiplier for triage and decisions: 0.25, 0.5, 0.75, 1.0.
    pub fn weight(self) -> f64 {
        match self {
            Self::Low => 0.25,
            Self::Medium => 0.5,
            Self::High => 0.75,
            Self::Critical => 1.0,
        }
    }
}

impl fmt::Display for Criticality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Criticality {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            "critical" => Ok(Self::Critical),
            other => Err(format!("unknown criticality `{other}` (expected low, medium, high or critical)")),
        }
    }
}

/// One inventory record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    /// Host name (unique, case-insensitive).
    pub name: String,
    /// Addresses (as /32 or /128) and networks it owns.
    #[serde(default)]
    pub networks: Vec<IpNet>,
    /// Owning team or person.
    #[serde(default)]
    pub owner: String,
    /// How much it matters.
    pub criticality: Criticality,
    /// Free-form labels (`pci`, `dmz`).
    #[serde(default)]
    pub tags: Vec<String>,
}

/// One problem found in inventory input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetProblem {
    /// 1-based line of a CSV file, or 1-based record number of API input.
    pub line: usize,
    /// 1-based column, when the problem is in one field.
    pub column: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for AssetProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(c) => write!(f, "line {}, column {c}: {}", self.line, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

/// Inventory input that cannot be used; nothing of it is applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AssetError {
    /// The file cannot be read.
    #[error("asset inventory {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Rows or records with errors.
    #[error("asset inventory {origin}: {}", join(.problems))]
    Invalid {
        /// File path, or `api` for records given through the API.
        origin: String,
        /// Every problem found.
        problems: Vec<AssetProblem>,
    },
}

fn join(problems: &[AssetProblem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// Most bytes read from an inventory file.
pub const MAX_CSV_BYTES: u64 = 64 << 20;

/// Reads and parses an inventory CSV file.
pub fn load_csv(path: &Path) -> Result<Vec<Asset>, AssetError> {
    let read_err = |reason: String| AssetError::Read { path: path.display().to_string(), reason };
    let meta = std::fs::metadata(path).map_err(|e| read_err(e.to_string()))?;
    if meta.len() > MAX_CSV_BYTES {
        return Err(read_err(format!("{} bytes exceeds the limit of {MAX_CSV_BYTES}", meta.len())));
    }
    let text = std::fs::read_to_string(path).map_err(|e| read_err(e.to_string()))?;
    parse_csv(&text, &path.display().to_string())
}

/// One CSV record: its starting line and its fields with their 1-based columns.
type Row = (usize, Vec<String>);

/// Splits CSV text into records (RFC 4180 quoting; `\n` or `\r\n` line ends).
pub fn split_csv(text: &str) -> Result<Vec<Row>, AssetProblem> {
    let mut rows = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let (mut line, mut row_line) = (1usize, 1usize);
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                quoted = true;
                at_field_start = false;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                let row = std::mem::take(&mut fields);
                if !(row.len() == 1 && row[0].trim().is_empty()) {
                    rows.push((row_line, row));
                }
                line += 1;
                row_line = line;
                at_field_start = true;
            }
            _ => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if quoted {
        return Err(AssetProblem {
            line: row_line,
            column: Some(fields.len() + 1),
            reason: "unterminated quoted field".into(),
        });
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        if !(fields.len() == 1 && fields[0].trim().is_empty()) {
            rows.push((row_line, fields));
        }
    }
    Ok(rows)
}

const COLUMNS: [&str; 5] = ["name", "ip_or_cidr", "owner", "criticality", "tags"];

/// Parses inventory CSV text; `origin` names it in errors.
pub fn parse_csv(text: &str, origin: &str) -> Result<Vec<Asset>, AssetError> {
    let invalid = |problems| AssetError::Invalid { origin: origin.to_owned(), problems };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rows = split_csv(text).map_err(|p| invalid(vec![p]))?;
    let Some(((header_line, header), body)) = rows.split_first() else {
        return Err(invalid(vec![AssetProblem {
            line: 1,
            column: None,
            reason: "empty file: expected a header".into(),
        }]));
    };
    let mut problems = Vec::new();
    let mut at = [usize::MAX; 5];
    for (i, name) in header.iter().enumerate() {
        let name = name.trim().to_ascii_lowercase();
        match COLUMNS.iter().position(|c| *c == name) {
            Some(k) if at[k] == usize::MAX => at[k] = i,
            Some(_) => problems.push(problem(*header_line, i, format!("column `{name}` appears twice"))),
            None => problems.push(problem(
                *header_line,
                i,
                format!("unknown column `{name}` (expected {})", COLUMNS.join(",")),
            )),
        }
    }
    for (k, col) in COLUMNS.iter().enumerate() {
        if at[k] == usize::MAX {
            problems.push(AssetProblem {
                line: *header_line,
                column: None,
                reason: format!("missing column `{col}`"),
            });
        }
    }
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let mut assets: Vec<(usize, Asset)> = Vec::new();
    for (line, fields) in body {
        if fields.len() != header.len() {
            problems.push(AssetProblem {
                line: *line,
                column: None,
                reason: format!("{} fields, the header has {}", fields.len(), header.len()),
            });
            continue;
        }
        match row_asset(*line, fields, &at) {
            Ok(asset) => merge(&mut assets, *line, asset, &mut problems),
            Err(mut p) => problems.append(&mut p),
        }
    }
    let lines: Vec<usize> = assets.iter().map(|(l, _)| *l).collect();
    let assets: Vec<Asset> = assets.into_iter().map(|(_, a)| a).collect();
    if let Err(found) = AssetIndex::build(&assets) {
        // The index numbers records; report the CSV line each record started on.
        problems.extend(
            found
                .into_iter()
                .map(|p| AssetProblem { line: lines.get(p.line - 1).copied().unwrap_or(p.line), ..p }),
        );
    }
    if problems.is_empty() { Ok(assets) } else { Err(invalid(problems)) }
}

fn problem(line: usize, index: usize, reason: String) -> AssetProblem {
    AssetProblem { line, column: Some(index + 1), reason }
}

fn row_asset(line: usize, fields: &[String], at: &[usize; 5]) -> Result<Asset, Vec<AssetProblem>> {
    let mut problems = Vec::new();
    let name = fields[at[0]].trim().to_owned();
    if name.is_empty() {
        problems.push(problem(line, at[0], "empty asset name".into()));
    }
    let mut networks = Vec::new();
    for item in fields[at[1]].split([';', '|', ' ', '\t', '\n']).filter(|s| !s.is_empty()) {
        match parse_net(item) {
            Ok(net) => networks.push(net),
            Err(reason) => problems.push(problem(line, at[1], reason)),
        }
    }
    let criticality = match fields[at[3]].parse::<Criticality>() {
        Ok(c) => Some(c),
        Err(reason) => {
            problems.push(problem(line, at[3], reason));
            None
        }
    };
    let tags =
        fields[at[4]].split([';', '|']).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect();
    match criticality {
        Some(criticality) if problems.is_empty() => {
            Ok(Asset { name, networks, owner: fields[at[2]].trim().to_owned(), criticality, tags })
        }
        _ => Err(problems),
    }
}

/// Parses an address (as a host network) or a CIDR network (host bits cleared).
pub fn parse_net(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    text.parse::<IpNet>()
        .map(|n| n.trunc())
        .map_err(|_| format!("`{text}` is not an IP address or CIDR network"))
}

fn merge(assets: &mut Vec<(usize, Asset)>, line: usize, asset: Asset, problems: &mut Vec<AssetProblem>) {
    let Some((first, known)) = assets.iter_mut().find(|(_, a)| a.name.eq_ignore_ascii_case(&asset.name))
    else {
        assets.push((line, asset));
        return;
    };
    if known.criticality != asset.criticality || known.owner != asset.owner {
        problems.push(AssetProblem {
            line,
            column: None,
            reason: format!(
                "asset `{}` is also on line {first} with a different owner or criticality",
                asset.name
            ),
        });
        return;
    }
    for net in asset.networks {
        if !known.networks.contains(&net) {
            known.networks.push(net);
        }
    }
    for tag in asset.tags {
        if !known.tags.contains(&tag) {
            known.tags.push(tag);
        }
    }
}

/// The lookup structure for one inventory: names and longest-prefix address matching.
#[derive(Debug, Default)]
pub struct AssetIndex {
    assets: Vec<Asset>,
    names: FxHashMap<String, u32>,
    v4: Vec<(u8, FxHashMap<u32, u32>)>,
    v6: Vec<(u8, FxHashMap<u128, u32>)>,
}

impl AssetIndex {
    /// Indexes `assets`; duplicate names and networks claimed twice are problems (numbered by
    /// record).
    pub fn build(assets: &[Asset]) -> Result<Self, Vec<AssetProblem>> {
        let mut idx = Self { assets: assets.to_vec(), ..Self::default() };
        let mut problems = Vec::new();
        for (i, a) in assets.iter().enumerate() {
            let n = u32::try_from(i).unwrap_or(u32::MAX);
            let rec = i + 1;
            if idx.names.insert(a.name.to_ascii_lowercase(), n).is_some() {
                problems.push(AssetProblem {
                    line: rec,
                    column: None,
                    reason: format!("duplicate asset name `{}`", a.name),
                });
            }
            if a.name.trim().is_empty() {
                problems.push(AssetProblem { line: rec, column: None, reason: "empty asset name".into() });
            }
            for net in &a.networks {
                if let Some(other) = idx.insert(net.trunc(), n) {
                    problems.push(AssetProblem {
                        line: rec,
                        column: None,
                        reason: format!(
                            "network {net} of `{}` already belongs to `{}`",
                            a.name, assets[other as usize].name
                        ),
                    });
                }
            }
        }
        idx.v4.sort_by_key(|t| std::cmp::Reverse(t.0));
        idx.v6.sort_by_key(|t| std::cmp::Reverse(t.0));
        if problems.is_empty() { Ok(idx) } else { Err(problems) }
    }

    fn insert(&mut self, net: IpNet, asset: u32) -> Option<u32> {
        let prev = match net {
            IpNet::V4(n) => table(&mut self.v4, n.prefix_len()).insert(u32::from(n.network()), asset),
            IpNet::V6(n) => table(&mut self.v6, n.prefix_len()).insert(u128::from(n.network()), asset),
        };
        prev.filter(|&prev| prev != asset)
    }

    /// The asset owning the longest listed prefix containing `ip`.
    pub fn by_ip(&self, ip: IpAddr) -> Option<&Asset> {
        let hit = match ip {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4);
                self.v4.iter().find_map(|(len, t)| t.get(&(bits & mask32(*len))))
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                self.v6.iter().find_map(|(len, t)| t.get(&(bits & mask128(*len))))
            }
        };
        hit.map(|i| &self.assets[*i as usize])
    }

    /// The asset with this host name (case-insensitive), or with its first label.
    pub fn by_name(&self, name: &str) -> Option<&Asset> {
        let lower = name.trim().to_ascii_lowercase();
        let hit = self.names.get(&lower).or_else(|| {
            let short = lower.split('.').next().unwrap_or_default();
            (short.len() < lower.len()).then(|| self.names.get(short)).flatten()
        });
        hit.map(|i| &self.assets[*i as usize])
    }

    /// All assets, in input order.
    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }
}

fn table<K>(tables: &mut Vec<(u8, FxHashMap<K, u32>)>, len: u8) -> &mut FxHashMap<K, u32> {
    let at = match tables.iter().position(|(l, _)| *l == len) {
        Some(at) => at,
        None => {
            tables.push((len, FxHashMap::default()));
            tables.len() - 1
        }
    };
    &mut tables[at].1
}

fn mask32(len: u8) -> u32 {
    if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) }
}

fn mask128(len: u8) -> u128 {
    if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) }
}

/// Fields checked on events, in precedence order, with whether they hold a name.
pub const EVENT_FIELDS: [(&str, bool); 5] = [
    ("host.name", true),
    ("host.ip", false),
    ("destination.ip", false),
    ("source.ip", false),
    ("observer.hostname", true),
];

/// The hot-swappable inventory shared by the pipeline and the API.
#[derive(Debug, Default)]
pub struct AssetInventory {
    current: ArcSwap<AssetIndex>,
}

impl AssetInventory {
    /// An inventory serving `assets`.
    pub fn new(assets: Vec<Asset>) -> Result<Self, AssetError> {
        let inv = Self::default();
        inv.replace(assets)?;
        Ok(inv)
    }

    /// Validates `assets` and swaps them in whole; on error the current inventory stays.
    pub fn replace(&self, assets: Vec<Asset>) -> Result<(), AssetError> {
        let idx = AssetIndex::build(&assets)
            .map_err(|problems| AssetError::Invalid { origin: "api".into(), problems })?;
        self.current.store(Arc::new(idx));
        Ok(())
    }

    /// The inventory in service now.
    pub fn current(&self) -> Arc<AssetIndex> {
        self.current.load_full()
    }

    /// Tags an event with the first matching asset; returns it.
    pub fn enrich(&self, ev: &mut Event) -> Option<Criticality> {
        let idx = self.current.load();
        if idx.assets.is_empty() {
            return None;
        }
        let (field, asset) = EVENT_FIELDS.iter().find_map(|(field, is_name)| {
            let found = each_value(ev.get(field)).find_map(|v| match_value(&idx, v, *is_name));
            found.map(|a| (*field, a))
        })?;
        ev.set("ward.asset.name", asset.name.as_str());
        ev.set("ward.asset.criticality", asset.criticality.as_str());
        if !asset.owner.is_empty() {
            ev.set("ward.asset.owner", asset.owner.as_str());
        }
        if !asset.tags.is_empty() {
            ev.set(
                "ward.asset.tags",
                asset.tags.iter().map(|t| FieldValue::from(t.as_str())).collect::<Vec<_>>(),
            );
        }
        ev.set("ward.asset.matched_field", field);
        Some(asset.criticality)
    }

    /// Adds `details.asset` to an alert from its entities: the matching asset of highest
    /// criticality. Returns that criticality.
    pub fn attach(&self, alert: &mut AlertRecord) -> Option<Criticality> {
        let idx = self.current.load();
        let mut best: Option<(&Asset, &str, &str)> = None;
        for (field, is_name) in EVENT_FIELDS {
            for value in alert.entities.get(field).into_iter().flatten() {
                let asset = if is_name {
                    idx.by_name(value)
                } else {
                    value.parse().ok().and_then(|ip| idx.by_ip(ip))
                };
                if let Some(a) = asset
                    && best.is_none_or(|(b, _, _)| a.criticality > b.criticality)
                {
                    best = Some((a, field, value));
                }
            }
        }
        let (asset, field, value) = best?;
        let entry = serde_json::json!({
            "name": asset.name,
            "criticality": asset.criticality,
            "owner": asset.owner,
            "tags": asset.tags,
            "matched_field": field,
            "matched_value": value,
        });
        crate::details_object(&mut alert.details).insert("asset".into(), entry);
        Some(asset.criticality)
    }
}

fn each_value(v: Option<&FieldValue>) -> impl Iterator<Item = &FieldValue> {
    let items: &[FieldValue] = match v {
        Some(FieldValue::List(items)) => items,
        Some(other) => std::slice::from_ref(other),
        None => &[],
    };
    items.iter()
}

fn match_value<'a>(idx: &'a AssetIndex, v: &FieldValue, is_name: bool) -> Option<&'a Asset> {
    match (v, is_name) {
        (FieldValue::Str(s), true) => idx.by_name(s),
        (FieldValue::Ip(ip), false) => idx.by_ip(*ip),
        (FieldValue::Str(s), false) => s.parse().ok().and_then(|ip| idx.by_ip(ip)),
        _ => None,
    }
}
