//! `name_enum!`: the one way Ward defines a closed set of snake_case names (statuses, kinds,
//! modes) that travel through JSON, SQL, the CLI and metric labels.

/// Defines a snake_case string enum with `ALL`, `as_str`, `Display`, `FromStr` (error:
/// [`UnknownName`](crate::UnknownName)) and serde in the same spelling.
///
/// ```
/// ward_model::name_enum!(
///     /// Traffic light.
///     Light, "light" {
///         /// Stop.
///         Red = "red",
///         /// Go.
///         Green = "green",
///     }
/// );
/// assert_eq!("green".parse::<Light>().unwrap(), Light::Green);
/// assert!("blue".parse::<Light>().is_err());
/// ```
#[macro_export]
macro_rules! name_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$(Self::$v),+];

            /// The snake_case name used in JSON, SQL, the CLI and metric labels.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::UnknownName;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| $crate::UnknownName {
                    what: $what,
                    value: s.to_owned(),
                    expected: concat!($($s, " "),+),
                })
            }
        }
    };
}
