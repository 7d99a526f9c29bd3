//! Integration tests of ward-ioc through its public API: loaders on the real shared feeds,
//! normalization, rejections, matching, warning-lists, reload, and properties.

mod common;
mod feeds;
mod matching;
mod normalize;
mod props;
mod rejections;
mod reload;
mod stix;
mod warninglists;
