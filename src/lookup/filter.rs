//! A Bloom filter of every code and slug that exists.
//!
//! The negative cache only helps with codes seen before; a scan of ever-new random codes would
//! still cost one query each. The filter answers "certainly not ours" for ~99% of them from
//! memory (about 1.2 MB per million codes), so a scanner never reaches the database.

use crate::domain::code::Code;
use bloomfilter::Bloom;
use std::sync::RwLock;

const FALSE_POSITIVE_RATE: f64 = 0.01;
const MIN_CAPACITY: usize = 1 << 20;

struct Filter {
    bloom: Bloom<str>,
    capacity: usize,
    items: usize,
}

impl Filter {
    fn with_keys(keys: &[String]) -> Filter {
        let capacity = (keys.len() * 2).max(MIN_CAPACITY);
        // Only fails for a zero capacity or an impossible rate, neither of which we pass.
        let mut bloom = Bloom::new_for_fp_rate(capacity, FALSE_POSITIVE_RATE).expect("valid bloom parameters");
        for key in keys {
            bloom.set(key.as_str());
        }
        Filter {
            bloom,
            capacity,
            items: keys.len(),
        }
    }
}

pub struct CodeFilter {
    filter: RwLock<Filter>,
    /// Codes learned while a rebuild read the database: re-applied after the swap, so a share
    /// created mid-rebuild is never forgotten.
    learned_during_rebuild: RwLock<Option<Vec<String>>>,
}

impl CodeFilter {
    pub fn new(keys: &[String]) -> CodeFilter {
        CodeFilter {
            filter: RwLock::new(Filter::with_keys(keys)),
            learned_during_rebuild: RwLock::new(None),
        }
    }

    /// False means no share has this code or slug; true means "look it up".
    pub fn may_exist(&self, code: &Code) -> bool {
        let Ok(filter) = self.filter.read() else { return true };
        let raw = code.as_str();
        filter.bloom.check(raw) || (raw.bytes().any(|b| b.is_ascii_uppercase()) && filter.bloom.check(&code.slug_key()))
    }

    /// Adds a code (and its slug key). Returns true when the filter is full and wants a rebuild.
    pub fn learn(&self, code: &str) -> bool {
        if let Ok(mut pending) = self.learned_during_rebuild.write()
            && let Some(pending) = pending.as_mut()
        {
            pending.push(code.to_owned());
        }
        let Ok(mut filter) = self.filter.write() else {
            return false;
        };
        filter.bloom.set(code);
        filter.bloom.set(&code.to_ascii_lowercase());
        filter.items += 1;
        filter.items > filter.capacity
    }

    pub fn begin_rebuild(&self) {
        if let Ok(mut pending) = self.learned_during_rebuild.write() {
            *pending = Some(Vec::new());
        }
    }

    /// After a failed reload nothing is known to be absent: let every lookup through until the
    /// next rebuild succeeds.
    pub fn finish_rebuild_failed(&self) {
        if let Ok(mut filter) = self.filter.write() {
            filter.bloom.fill();
        }
        if let Ok(mut pending) = self.learned_during_rebuild.write() {
            *pending = None;
        }
    }

    pub fn finish_rebuild(&self, keys: &[String]) {
        let mut fresh = Filter::with_keys(keys);
        if let Ok(mut pending) = self.learned_during_rebuild.write() {
            for code in pending.take().unwrap_or_default() {
                fresh.bloom.set(code.as_str());
                fresh.bloom.set(&code.to_ascii_lowercase());
                fresh.items += 1;
            }
        }
        if let Ok(mut filter) = self.filter.write() {
            *filter = fresh;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_and_slugs_in_any_case_may_exist() {
        let filter = CodeFilter::new(&["AbCd2345".to_owned(), "spring-sale".to_owned()]);
        assert!(filter.may_exist(&Code::parse("AbCd2345").unwrap()));
        assert!(filter.may_exist(&Code::parse("Spring-SALE").unwrap()));
    }

    #[test]
    fn random_codes_are_almost_all_refused() {
        let known: Vec<String> = (0..10_000).map(|_| Code::generate().to_string()).collect();
        let filter = CodeFilter::new(&known);
        let let_through = (0..10_000).filter(|_| filter.may_exist(&Code::generate())).count();
        assert!(let_through < 300, "{let_through} of 10000 random codes passed");
    }

    #[test]
    fn a_code_learned_during_a_rebuild_survives_it() {
        let filter = CodeFilter::new(&[]);
        filter.begin_rebuild();
        filter.learn("NewCode9");
        filter.finish_rebuild(&["OldCode2".to_owned()]);
        assert!(filter.may_exist(&Code::parse("NewCode9").unwrap()));
        assert!(filter.may_exist(&Code::parse("OldCode2").unwrap()));
    }
}
