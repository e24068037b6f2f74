//! A Bloom filter of every code and slug that exists.
//!
//! The negative cache only helps with codes seen before; a scan of ever-new random codes would
//! still cost one query each. The filter answers "certainly not ours" for ~99% of them from
//! memory (about 1.2 MB per million codes), so a scanner never reaches the database.

use crate::domain::code::Code;
use bloomfilter::Bloom;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

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

    /// A code under its own spelling and its slug key (slugs are looked up in any case).
    fn add(&mut self, code: &str) {
        self.bloom.set(code);
        self.bloom.set(&code.to_ascii_lowercase());
        self.items += 1;
    }
}

pub struct CodeFilter {
    /// The filter and the codes learned while a rebuild reads the database, under one lock: a
    /// code learned between the re-application of those and the swap was lost, and answered 404.
    state: RwLock<State>,
    /// At most one rebuild at a time: a second would read the same codes again.
    rebuilding: AtomicBool,
}

struct State {
    filter: Filter,
    /// While a rebuild runs, what is learned meanwhile, re-applied to the new filter at the swap.
    learned_during_rebuild: Option<Vec<String>>,
}

impl CodeFilter {
    pub fn new(keys: &[String]) -> CodeFilter {
        CodeFilter {
            state: RwLock::new(State {
                filter: Filter::with_keys(keys),
                learned_during_rebuild: None,
            }),
            rebuilding: AtomicBool::new(false),
        }
    }

    /// False means no share has this code or slug; true means "look it up".
    pub fn may_exist(&self, code: &Code) -> bool {
        let Ok(state) = self.state.read() else { return true };
        let raw = code.as_str();
        let bloom = &state.filter.bloom;
        bloom.check(raw) || (raw.bytes().any(|b| b.is_ascii_uppercase()) && bloom.check(&code.slug_key()))
    }

    /// Adds a code (and its slug key). Returns true when the filter is full and wants a rebuild.
    pub fn learn(&self, code: &str) -> bool {
        let Ok(mut state) = self.state.write() else {
            return false;
        };
        if let Some(pending) = state.learned_during_rebuild.as_mut() {
            pending.push(code.to_owned());
        }
        state.filter.add(code);
        state.filter.items > state.filter.capacity
    }

    /// Starts a rebuild, unless one is running already (then false: nothing to do).
    pub fn begin_rebuild(&self) -> bool {
        if self.rebuilding.swap(true, Ordering::AcqRel) {
            return false;
        }
        if let Ok(mut state) = self.state.write() {
            state.learned_during_rebuild = Some(Vec::new());
        }
        true
    }

    /// After a failed reload nothing is known to be absent: let every lookup through until the
    /// next rebuild succeeds.
    pub fn finish_rebuild_failed(&self) {
        if let Ok(mut state) = self.state.write() {
            state.filter.bloom.fill();
            state.learned_during_rebuild = None;
        }
        self.rebuilding.store(false, Ordering::Release);
    }

    /// Swaps in a filter of `keys` (read after `begin_rebuild`) and of every code learned since.
    pub fn finish_rebuild(&self, keys: &[String]) {
        // Built outside the lock: lookups go on meanwhile.
        let mut fresh = Filter::with_keys(keys);
        if let Ok(mut state) = self.state.write() {
            for code in state.learned_during_rebuild.take().unwrap_or_default() {
                fresh.add(&code);
            }
            state.filter = fresh;
        }
        self.rebuilding.store(false, Ordering::Release);
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
    fn a_code_learned_while_a_rebuild_swaps_is_never_lost() {
        // A share is stored, then its code learned; one thread rebuilds over and over from what
        // is stored at the time. Every code stored must be let through, whatever the timing.
        let filter = std::sync::Arc::new(CodeFilter::new(&[]));
        let stored = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let rebuilder = {
            let (filter, stored, stop) = (filter.clone(), stored.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if filter.begin_rebuild() {
                        let keys = stored.lock().unwrap().clone();
                        filter.finish_rebuild(&keys);
                    }
                }
            })
        };
        let codes: Vec<Code> = (0..5_000).map(|_| Code::generate()).collect();
        for code in &codes {
            stored.lock().unwrap().push(code.as_str().to_owned());
            filter.learn(code.as_str());
        }
        stop.store(true, Ordering::Relaxed);
        rebuilder.join().unwrap();
        let lost = codes.iter().filter(|code| !filter.may_exist(code)).count();
        assert_eq!(lost, 0, "codes learned during rebuilds were forgotten");
    }

    #[test]
    fn a_second_rebuild_waits_for_the_first_to_finish() {
        let filter = CodeFilter::new(&[]);
        assert!(filter.begin_rebuild());
        assert!(!filter.begin_rebuild(), "one rebuild at a time");
        filter.finish_rebuild(&[]);
        assert!(filter.begin_rebuild(), "the next may start");
        filter.finish_rebuild_failed();
        assert!(filter.begin_rebuild(), "and after a failed one too");
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
