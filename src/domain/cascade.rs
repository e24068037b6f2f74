//! Cascade maths: the tree a link's shares form and its structural virality.
//!
//! The tree's nodes are the link itself (the root) plus every share. Structural virality
//! (Goel, Anderson, Hofman & Watts, 2016) is the mean shortest-path distance over all pairs
//! of nodes: near 1 for a broadcast (everyone shared the link directly), growing as sharing
//! spreads person to person.

/// The deepest a share may sit. Real cascades end within a dozen hops; the cap bounds what one
/// new share (every ancestor grows) or one conversion (a credit per ancestor) can make the
/// database walk, so a public key cannot make either write without bound.
pub const MAX_DEPTH: i64 = 64;

/// Whether a share at `parent_depth` may take another share under it.
pub fn may_have_children(parent_depth: i64) -> bool {
    parent_depth < MAX_DEPTH
}

/// Mean pairwise distance of the cascade tree (n = shares + 1 nodes), in O(1) from running
/// totals; 0 when the link has no share. Over all shares s, sum_sizes = Σ size(s) and
/// sum_sq_sizes = Σ size(s)², where size(s) counts the share and everything under it:
/// SV = (n·Σsize − Σsize²) / (n(n−1)/2).
///
/// Each share owns exactly one edge (to its parent), and an edge whose lower side holds `size`
/// nodes lies on the path of size·(n − size) pairs; summed, that is the Wiener index.
pub fn structural_virality_from_sums(share_count: u64, sum_sizes: u64, sum_sq_sizes: u64) -> f64 {
    if share_count == 0 {
        return 0.0;
    }
    // u128: n·Σsize grows like n³ and would overflow u64 for cascades of a few million shares.
    let n = u128::from(share_count) + 1;
    let wiener = (n * u128::from(sum_sizes)).saturating_sub(u128::from(sum_sq_sizes));
    wiener as f64 / (n * (n - 1) / 2) as f64
}

/// How (Σ size, Σ size²) change when subtree sizes go from `before` to `after`, over every share
/// whose size changed: a share that joins the tree goes from 0 to 1, an ancestor that gained k
/// descendants from s − k to s. The change does not depend on the order the shares joined in,
/// so a batch of new shares is summed from each touched share's size before and after it.
pub fn sums_delta_for_growth(sizes: impl IntoIterator<Item = (u64, u64)>) -> (u64, u64) {
    sizes.into_iter().fold((0, 0), |(sum, sq), (before, after)| {
        let after = after.max(before);
        (sum + (after - before), sq + (after * after - before * before))
    })
}

/// Child shares per human click: how often a visit turned into a further share.
pub fn reshare_rate(child_shares: u64, human_clicks: u64) -> f64 {
    if human_clicks == 0 {
        return 0.0;
    }
    child_shares as f64 / human_clicks as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    fn assert_close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
    }

    /// The test oracle for `sums_delta_for_growth`: how (Σ size, Σ size²) change when one share
    /// is added, given the subtree sizes *after* the increment of its share ancestors (the link
    /// node is not one: it has no edge above it). The new leaf adds 1 and 1; an ancestor going
    /// from s−1 to s adds 1 and s² − (s−1)² = 2s − 1. Adding shares one at a time is the plain
    /// reading of the definition, so the batch formula production uses is checked against it.
    fn sums_delta_for_new_share(new_ancestor_sizes: &[u64]) -> (u64, u64) {
        new_ancestor_sizes
            .iter()
            .fold((1, 1), |(sum, sq), &s| (sum + 1, sq + (2 * s).saturating_sub(1)))
    }

    #[test]
    fn a_link_without_shares_has_zero_virality() {
        assert_eq!(structural_virality_from_sums(0, 0, 0), 0.0);
        assert_eq!(brute_force_virality(&[]), 0.0);
    }

    #[test]
    fn a_single_share_has_virality_one() {
        // n = 2, one pair at distance 1; sizes [1].
        assert_close(brute_force_virality(&[0]), 1.0);
        assert_close(structural_virality_from_sums(1, 1, 1), 1.0);
    }

    #[test]
    fn a_star_of_three_root_shares_has_virality_one_and_a_half() {
        // n = 4: three link–share pairs at 1, three share–share pairs at 2 → 9 / 6 = 1.5.
        // Sizes 1, 1, 1: Σsize = 3, Σsize² = 3 → 4·3 − 3 = 9.
        assert_close(brute_force_virality(&[0, 0, 0]), 1.5);
        assert_close(structural_virality_from_sums(3, 3, 3), 1.5);
    }

    #[test]
    fn a_chain_of_three_shares_has_virality_ten_sixths() {
        // L-a-b-c, n = 4: distances 1+2+3 + 1+2 + 1 = 10 over 6 pairs.
        // Sizes 3, 2, 1: Σsize = 6, Σsize² = 14 → 4·6 − 14 = 10.
        assert_close(brute_force_virality(&[0, 1, 2]), 10.0 / 6.0);
        assert_close(structural_virality_from_sums(3, 6, 14), 10.0 / 6.0);
    }

    #[test]
    fn a_mixed_tree_has_the_hand_computed_virality() {
        // Link L → a, b; a → c, d; c → e. n = 6, 15 pairs. Distances: from L 1+1+2+2+3 = 9;
        // a–{b,c,d,e} 2+1+1+2 = 6; b–{c,d,e} 3+3+4 = 10; c–{d,e} 2+1 = 3; d–e 3.
        // Wiener = 31 → SV = 31/15.
        // Edge view: sizes a4 b1 c2 d1 e1 → 4·2 + 1·5 + 2·4 + 1·5 + 1·5 = 31.
        assert_close(brute_force_virality(&[0, 0, 1, 1, 3]), 31.0 / 15.0);
        // Σsize = 9, Σsize² = 16+1+4+1+1 = 23 → 6·9 − 23 = 31.
        assert_close(structural_virality_from_sums(5, 9, 23), 31.0 / 15.0);
    }

    #[test]
    fn adding_a_grandchild_share_changes_the_sums_by_its_ancestors_new_sizes() {
        // e joins under c (1 → 2) under a (3 → 4): Σsize +3, Σsize² +1 + (2·2−1) + (2·4−1) = 11.
        assert_eq!(sums_delta_for_new_share(&[2, 4]), (3, 11));
        assert_eq!(sums_delta_for_new_share(&[]), (1, 1));
    }

    #[test]
    fn growth_of_several_shares_at_once_sums_like_one_at_a_time() {
        // In the mixed tree (a4 b1 c2 d1 e1), d and e join in one batch: d (0 → 1), e (0 → 1),
        // c (1 → 2), a (2 → 4); one at a time that is (1, 1) + (1, 1) + … as below.
        let batch = sums_delta_for_growth([(0, 1), (0, 1), (1, 2), (2, 4)]);
        let d = sums_delta_for_new_share(&[3]);
        let e = sums_delta_for_new_share(&[2, 4]);
        assert_eq!(batch, (d.0 + e.0, d.1 + e.1));
        assert_eq!(sums_delta_for_growth([]), (0, 0));
    }

    #[test]
    fn a_share_at_the_depth_cap_takes_no_children() {
        assert!(may_have_children(1));
        assert!(may_have_children(MAX_DEPTH - 1));
        assert!(!may_have_children(MAX_DEPTH));
    }

    #[test]
    fn reshare_rate_is_child_shares_per_human_click_and_zero_without_clicks() {
        assert_close(reshare_rate(3, 12), 0.25);
        assert_eq!(reshare_rate(4, 0), 0.0);
        assert_eq!(reshare_rate(0, 0), 0.0);
    }

    /// The test oracle for the virality itself: the mean of all-pairs BFS distances, straight
    /// from the definition. `parents[i]` is the tree node share i hangs from; node 0 is the
    /// link, node i + 1 is share i.
    fn brute_force_virality(parents: &[usize]) -> f64 {
        let n = parents.len() + 1;
        let mut adjacent = vec![Vec::new(); n];
        for (i, &p) in parents.iter().enumerate() {
            adjacent[i + 1].push(p);
            adjacent[p].push(i + 1);
        }
        let mut total = 0u64;
        for start in 0..n {
            let mut dist = vec![u64::MAX; n];
            dist[start] = 0;
            let mut queue = VecDeque::from([start]);
            while let Some(u) = queue.pop_front() {
                for &v in &adjacent[u] {
                    if dist[v] == u64::MAX {
                        dist[v] = dist[u] + 1;
                        queue.push_back(v);
                    }
                }
            }
            total += dist.iter().sum::<u64>();
        }
        if n < 2 {
            0.0
        } else {
            total as f64 / (n * (n - 1)) as f64
        }
    }

    proptest! {
        #[test]
        fn virality_matches_brute_force_and_running_sums_on_random_trees(
            seeds in prop::collection::vec(any::<u32>(), 0..60)
        ) {
            // Share i picks its parent among the i + 1 earlier nodes; tree node 0 is the link.
            let parents: Vec<usize> = seeds.iter().enumerate().map(|(i, &s)| s as usize % (i + 1)).collect();
            let (mut sizes, mut sum, mut sum_sq) = (vec![0u64; parents.len() + 1], 0u64, 0u64);
            for (i, &p) in parents.iter().enumerate() {
                sizes[i + 1] = 1;
                let mut ancestor_sizes = Vec::new();
                let mut a = p;
                while a != 0 {
                    sizes[a] += 1;
                    ancestor_sizes.push(sizes[a]);
                    a = parents[a - 1];
                }
                let (d_sum, d_sq) = sums_delta_for_new_share(&ancestor_sizes);
                sum += d_sum;
                sum_sq += d_sq;
            }
            // The same sums from sizes before and after, as a batch of new shares computes them.
            let growth = sizes.iter().skip(1).map(|&after| (0, after));
            prop_assert_eq!(sums_delta_for_growth(growth), (sum, sum_sq));
            let expected = brute_force_virality(&parents);
            let from_sums = structural_virality_from_sums(parents.len() as u64, sum, sum_sq);
            prop_assert!((from_sums - expected).abs() < 1e-9);
        }
    }
}
