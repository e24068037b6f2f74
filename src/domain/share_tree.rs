//! The cascade as a tree a person can read: which shares to draw and where to summarise.
//!
//! A viral link has tens of thousands of shares; a drawing of all of them helps nobody. The
//! layout walks the tree breadth first, so the top levels are always drawn, shows the largest
//! branches of each node (by subtree size, then clicks), and folds the rest into a "N more
//! shares" row whose count comes from the subtree sizes, so nothing silently disappears.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeShare {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub code: String,
    pub channel: String,
    pub label: Option<String>,
    pub inferred_channel: Option<String>,
    pub clicks: i64,
    /// The share and all its descendants.
    pub subtree_size: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeItem {
    Share(TreeShare),
    /// Shares below this point that are not drawn.
    More {
        shares: i64,
    },
}

/// One drawn row, in document order. `level` 1 hangs off the link itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow {
    pub level: usize,
    pub item: TreeItem,
    /// The rows that follow, up to the matching close, are this row's children.
    pub opens_children: bool,
    /// How many levels of children end after this row.
    pub closes: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct TreeLimits {
    /// Shares drawn in all.
    pub max_nodes: usize,
    /// Children drawn under any one node.
    pub max_children: usize,
}

impl Default for TreeLimits {
    fn default() -> Self {
        TreeLimits {
            max_nodes: 200,
            max_children: 12,
        }
    }
}

/// Lays out the shares of one link; `total_shares` is the link's share count (the shares given
/// may be fewer, for a very large cascade).
pub fn layout(shares: Vec<TreeShare>, total_shares: i64, limits: TreeLimits) -> Vec<TreeRow> {
    let present: HashMap<i64, usize> = shares.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    let mut children: HashMap<Option<i64>, Vec<usize>> = HashMap::new();
    for (i, share) in shares.iter().enumerate() {
        // A share whose parent was not loaded cannot be placed; its parent's count covers it.
        if share.parent_id.is_none_or(|p| present.contains_key(&p)) {
            children.entry(share.parent_id).or_default().push(i);
        }
    }
    for list in children.values_mut() {
        list.sort_by_key(|&i| (-shares[i].subtree_size, -shares[i].clicks, shares[i].id));
    }

    // Breadth first: which children each node shows.
    let mut shown: HashMap<Option<i64>, Vec<usize>> = HashMap::new();
    let mut budget = limits.max_nodes;
    let mut queue = std::collections::VecDeque::from([None]);
    while let Some(parent) = queue.pop_front() {
        let Some(kids) = children.get(&parent) else { continue };
        let take = kids.len().min(limits.max_children).min(budget);
        budget -= take;
        let picked = kids[..take].to_vec();
        queue.extend(picked.iter().map(|&i| Some(shares[i].id)));
        shown.insert(parent, picked);
    }

    let mut rows = Vec::new();
    emit(None, total_shares, 1, &shares, &shown, &mut rows);
    rows
}

fn emit(
    parent: Option<i64>,
    descendants: i64,
    level: usize,
    shares: &[TreeShare],
    shown: &HashMap<Option<i64>, Vec<usize>>,
    rows: &mut Vec<TreeRow>,
) {
    let picked = shown.get(&parent).map(Vec::as_slice).unwrap_or_default();
    let mut drawn = 0;
    for &i in picked {
        let share = &shares[i];
        drawn += share.subtree_size;
        let has_rows_below = share.subtree_size > 1;
        rows.push(TreeRow {
            level,
            item: TreeItem::Share(share.clone()),
            opens_children: has_rows_below,
            closes: 0,
        });
        if has_rows_below {
            emit(Some(share.id), share.subtree_size - 1, level + 1, shares, shown, rows);
            if let Some(last) = rows.last_mut() {
                last.closes += 1;
            }
        }
    }
    let hidden = descendants - drawn;
    if hidden > 0 {
        rows.push(TreeRow {
            level,
            item: TreeItem::More { shares: hidden },
            opens_children: false,
            closes: 0,
        });
    }
}

/// The order of a tree's nodes depth first: each node, then its children's subtrees, children
/// in the order given. `nodes[i]` is (key, parent key); a node whose parent is not among them
/// is a root. Iterative, so a cascade as deep as the cap cannot overflow the stack.
pub fn depth_first<K: Eq + std::hash::Hash>(nodes: &[(K, Option<K>)]) -> Vec<usize> {
    let index: HashMap<&K, usize> = nodes.iter().enumerate().map(|(i, (key, _))| (key, i)).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    let mut roots = Vec::new();
    for (i, (_, parent)) in nodes.iter().enumerate() {
        match parent.as_ref().and_then(|p| index.get(p)) {
            Some(&p) if p != i => children[p].push(i),
            _ => roots.push(i),
        }
    }
    let mut order = Vec::with_capacity(nodes.len());
    let mut stack: Vec<usize> = roots.into_iter().rev().collect();
    while let Some(node) = stack.pop() {
        order.push(node);
        stack.extend(children[node].iter().rev());
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(id: i64, parent: Option<i64>, size: i64, clicks: i64) -> TreeShare {
        TreeShare {
            id,
            parent_id: parent,
            code: format!("c{id}"),
            channel: "whatsapp".into(),
            label: None,
            inferred_channel: None,
            clicks,
            subtree_size: size,
        }
    }

    fn shape(rows: &[TreeRow]) -> Vec<String> {
        rows.iter()
            .map(|r| match &r.item {
                TreeItem::Share(s) => format!(
                    "{}:{}{}{}",
                    r.level,
                    s.id,
                    if r.opens_children { "+" } else { "" },
                    ")".repeat(r.closes)
                ),
                TreeItem::More { shares } => format!("{}:more{}{}", r.level, shares, ")".repeat(r.closes)),
            })
            .collect()
    }

    #[test]
    fn a_chain_nests_and_closes_every_level() {
        let shares = vec![share(1, None, 3, 5), share(2, Some(1), 2, 3), share(3, Some(2), 1, 1)];
        let rows = layout(shares, 3, TreeLimits::default());
        assert_eq!(shape(&rows), ["1:1+", "2:2+", "3:3))"]);
    }

    #[test]
    fn the_biggest_branches_come_first() {
        let shares = vec![
            share(1, None, 1, 9),
            share(2, None, 3, 0),
            share(3, Some(2), 1, 0),
            share(4, Some(2), 1, 0),
        ];
        let rows = layout(shares, 4, TreeLimits::default());
        assert_eq!(shape(&rows), ["1:2+", "2:3", "2:4)", "1:1"]);
    }

    #[test]
    fn a_large_star_is_summarised_with_an_exact_count() {
        let shares: Vec<_> = (1..=50).map(|id| share(id, None, 1, id)).collect();
        let limits = TreeLimits {
            max_nodes: 200,
            max_children: 5,
        };
        let rows = layout(shares, 50, limits);
        assert_eq!(rows.len(), 6);
        // The five most-clicked, then the rest folded.
        assert_eq!(shape(&rows), ["1:50", "1:49", "1:48", "1:47", "1:46", "1:more45"]);
    }

    #[test]
    fn the_node_budget_keeps_top_levels_and_counts_what_it_hides() {
        // 1 ─ 2 ─ 3, and 4 alone; a budget of two draws 1 and 4 (breadth first) and folds 2 ─ 3.
        let shares = vec![
            share(1, None, 3, 1),
            share(2, Some(1), 2, 1),
            share(3, Some(2), 1, 1),
            share(4, None, 1, 0),
        ];
        let rows = layout(
            shares,
            4,
            TreeLimits {
                max_nodes: 2,
                max_children: 10,
            },
        );
        assert_eq!(shape(&rows), ["1:1+", "2:more2)", "1:4"]);
    }

    #[test]
    fn shares_missing_from_a_partial_load_are_counted_not_lost() {
        // The link has 10 shares; only two were loaded.
        let shares = vec![share(1, None, 4, 1), share(7, Some(99), 1, 0)];
        let rows = layout(shares, 10, TreeLimits::default());
        assert_eq!(shape(&rows), ["1:1+", "2:more3)", "1:more6"]);
    }

    #[test]
    fn no_shares_draw_nothing() {
        assert!(layout(Vec::new(), 0, TreeLimits::default()).is_empty());
    }

    #[test]
    fn depth_first_visits_each_subtree_whole_children_in_order() {
        // a → (b → d, c), e; f's parent is unknown, so it is a root.
        let nodes = [
            ("a", None),
            ("b", Some("a")),
            ("c", Some("a")),
            ("d", Some("b")),
            ("e", None),
            ("f", Some("zz")),
        ];
        let order: Vec<&str> = depth_first(&nodes).into_iter().map(|i| nodes[i].0).collect();
        assert_eq!(order, ["a", "b", "d", "c", "e", "f"]);
        let deep: Vec<(u32, Option<u32>)> = (0..100_000u32).map(|i| (i, i.checked_sub(1))).collect();
        assert_eq!(depth_first(&deep).len(), 100_000, "no recursion to overflow");
    }
}
