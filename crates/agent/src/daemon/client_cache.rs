//! A small least-recently-used map, for the agent's controller clients.
//!
//! Validating a token makes the agent (root) talk to the address the user gave. Caching
//! one client (a connection pool, with idle connections) per address forever would let
//! any user grow root's memory and open connections without bound, one made-up address
//! at a time. So the map holds at most `capacity` entries and drops the least recently
//! used one; the key marked with [`LruMap::keep`] (the controller the agent currently
//! serves) is never dropped. A value handed out earlier stays usable after its entry is
//! dropped (clients are shared handles): eviction only means the next use builds anew.

/// At most `capacity` values by key, the least recently used dropped first.
#[derive(Debug)]
pub struct LruMap<V> {
    capacity: usize,
    /// Least recently used first.
    entries: Vec<(String, V)>,
    keep: Option<String>,
}

impl<V: Clone> LruMap<V> {
    /// A map of at most `capacity` entries (at least 2: the kept key and one more).
    pub fn new(capacity: usize) -> LruMap<V> {
        LruMap {
            capacity: capacity.max(2),
            entries: Vec::new(),
            keep: None,
        }
    }

    /// The value for `key`, made with `make` (and stored) when there is none; either way
    /// `key` becomes the most recently used. A failed `make` stores nothing.
    pub fn get_or_try_insert<E>(
        &mut self,
        key: &str,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        if let Some(index) = self.entries.iter().position(|(k, _)| k == key) {
            let entry = self.entries.remove(index);
            let value = entry.1.clone();
            self.entries.push(entry);
            return Ok(value);
        }
        let value = make()?;
        self.entries.push((key.to_owned(), value.clone()));
        self.evict();
        Ok(value)
    }

    /// Never drops `key` (while it stays the kept one); `None` keeps nothing.
    pub fn keep(&mut self, key: Option<&str>) {
        if self.keep.as_deref() != key {
            self.keep = key.map(str::to_owned);
            self.evict();
        }
    }

    /// The keys held, least recently used first.
    #[cfg(test)]
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    fn evict(&mut self) {
        while self.entries.len() > self.capacity {
            let Some(index) = self
                .entries
                .iter()
                .position(|(k, _)| self.keep.as_deref() != Some(k.as_str()))
            else {
                return;
            };
            self.entries.remove(index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insert(map: &mut LruMap<u32>, key: &str, value: u32) -> u32 {
        map.get_or_try_insert(key, || Ok::<_, ()>(value)).unwrap()
    }

    fn keys(map: &LruMap<u32>) -> Vec<&str> {
        map.keys().collect()
    }

    #[test]
    fn the_least_recently_used_entry_goes_first() {
        let mut map = LruMap::new(3);
        for (i, key) in ["a", "b", "c"].into_iter().enumerate() {
            insert(&mut map, key, i as u32);
        }
        assert_eq!(insert(&mut map, "a", 99), 0, "a hit keeps the stored value");
        insert(&mut map, "d", 3);
        assert_eq!(keys(&map), ["c", "a", "d"], "b was the least recently used");
        for i in 0..100 {
            insert(&mut map, &format!("x{i}"), i);
        }
        assert_eq!(keys(&map), ["x97", "x98", "x99"], "bounded whatever comes");
    }

    #[test]
    fn the_kept_key_is_never_dropped() {
        let mut map = LruMap::new(3);
        insert(&mut map, "current", 1);
        map.keep(Some("current"));
        for i in 0..10 {
            insert(&mut map, &format!("x{i}"), i);
        }
        assert_eq!(keys(&map), ["current", "x8", "x9"]);
        assert_eq!(insert(&mut map, "current", 7), 1, "still the same value");

        // A kept key not yet in the map is protected once it is inserted.
        map.keep(Some("next"));
        insert(&mut map, "next", 2);
        for i in 10..20 {
            insert(&mut map, &format!("x{i}"), i);
        }
        assert!(keys(&map).contains(&"next"), "{:?}", keys(&map));
        assert!(!keys(&map).contains(&"current"), "no longer kept");

        map.keep(None);
        for i in 20..23 {
            insert(&mut map, &format!("x{i}"), i);
        }
        assert_eq!(keys(&map), ["x20", "x21", "x22"]);
    }

    #[test]
    fn a_failed_make_stores_nothing() {
        let mut map: LruMap<u32> = LruMap::new(2);
        let error = map.get_or_try_insert("bad", || Err("no")).unwrap_err();
        assert_eq!(error, "no");
        assert!(keys(&map).is_empty());
    }
}
