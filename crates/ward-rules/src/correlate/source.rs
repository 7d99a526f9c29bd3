//! Reading group keys and counted values from a match: a base event (through
//! [`Event::lookup`], so ECS paths and raw Windows `EventData` names both work) or an inner
//! correlation alert (its own `group-by` values).

use std::fmt::Write as _;

use ward_model::Event;

use super::alert::{CorrelationAlert, push_part};

/// What a match carries its field values in.
pub(super) enum Source<'a> {
    /// A detection rule matched this event.
    Event(&'a Event),
    /// An inner correlation fired; only its `group-by` values are known.
    Alert(&'a CorrelationAlert),
}

impl Source<'_> {
    /// The tenant, always the first part of a group key, so no group spans tenants.
    fn tenant(&self) -> &str {
        match self {
            Self::Event(e) => e.tenant(),
            Self::Alert(a) => &a.tenant,
        }
    }

    /// Appends the value of `field` as text to `buf`; `None` when it is missing.
    fn write_text(&self, field: &str, buf: &mut String) -> Option<()> {
        match self {
            Self::Event(e) => write!(buf, "{}", e.lookup(field)?).ok(),
            Self::Alert(a) => {
                buf.push_str(&a.group.iter().find(|(name, _)| name == field)?.1);
                Some(())
            }
        }
    }

    /// The group key: tenant and the values of `fields`; `None` when one is missing.
    pub(super) fn group_key(&self, fields: &[String]) -> Option<String> {
        let (mut key, mut buf) = (String::with_capacity(32), String::new());
        push_part(&mut key, self.tenant());
        for f in fields {
            buf.clear();
            self.write_text(f, &mut buf)?;
            push_part(&mut key, &buf);
        }
        Some(key)
    }

    /// The counted value: one field's text, or several fields' values encoded together.
    pub(super) fn value(&self, fields: &[String]) -> Option<String> {
        match fields {
            [one] => {
                let mut text = String::new();
                self.write_text(one, &mut text).map(|()| text)
            }
            many => {
                let (mut key, mut buf) = (String::new(), String::new());
                for f in many {
                    buf.clear();
                    self.write_text(f, &mut buf)?;
                    push_part(&mut key, &buf);
                }
                Some(key)
            }
        }
    }
}
