//! The statements of `Store::mint`, written once for both backends (as `shared.rs`, and for the
//! same reason). What they mean is decided in `minting`, in plain Rust, between them.
//!
//! A batch costs about ten statements however many shares it holds: lists are bound in `IN (…)`
//! and multi-row `VALUES`, which SQLite and PostgreSQL both take. Under load the minter groups
//! every request that arrived while the last batch was written, so a share costs a fraction of
//! a statement instead of a dozen.

/// Every column of a `ShareRecord`, its parent's code joined in; a `WHERE` follows.
pub(super) const SHARE_RECORDS: &str = "SELECT s.id, s.link_id, s.code, s.channel, p.code AS parent_code, \
     s.depth, s.label, s.created_at, s.disabled_at, s.expires_at, s.inferred_channel, s.clicks, s.unfurls, s.bots \
     FROM shares s LEFT JOIN shares p ON p.id = s.parent_id";

/// Each parent with itself and its ancestors, at most a cascade's depth of them.
pub(super) const ANCESTOR_CHAINS: &str = "WITH RECURSIVE chain(start, id, parent_id, hop) AS ( \
     SELECT id, id, parent_id, 0 FROM shares WHERE id IN ({ids}) \
     UNION ALL SELECT c.start, s.id, s.parent_id, c.hop + 1 FROM shares s JOIN chain c ON s.id = c.parent_id \
     WHERE c.hop < 64) SELECT start, id FROM chain";

macro_rules! impl_minting {
    ($store:ty, $db:ty) => {
        impl $store {
            /// `Store::mint`: read what the batch names, place every new share, send the reserved
            /// codes, insert, then count what counts from now on. One transaction.
            async fn mint_batch(&self, batch: &MintBatch, now: i64) -> StoreResult<MintOutcome> {
                use $crate::store::minting::{self, CountedShare};
                let mut tx = self.writer().begin().await?;
                let known = Self::mint_known(&mut tx, batch).await?;
                let mut placements: Vec<_> = batch.creates.iter().map(|s| minting::place(s, &known, now)).collect();
                Self::place_on_site_pages(&mut tx, batch, &mut placements, now).await?;
                let mut counted: Vec<CountedShare> = Vec::new();
                let sent = Self::send_reserved(&mut tx, &batch.sends, now, &mut counted).await?;
                let created = Self::insert_shares(&mut tx, batch, &placements, now, &mut counted).await?;
                Self::count_shares(&mut tx, &counted, now).await?;
                let ids: Vec<i64> = sent.iter().chain(&created).filter_map(|r| r.as_ref().ok().copied()).collect();
                let records = Self::share_records(&mut tx, &ids).await?;
                tx.commit().await?;
                let answer = |result: Result<i64, MintRefusal>| {
                    result.and_then(|id| records.get(&id).cloned().ok_or(MintRefusal::NotReserved))
                };
                Ok(MintOutcome {
                    sent: sent.into_iter().map(answer).collect(),
                    created: created.into_iter().map(answer).collect(),
                })
            }

            /// The parents, links and custom channels the batch names.
            async fn mint_known(
                tx: &mut sqlx::Transaction<'_, $db>,
                batch: &MintBatch,
            ) -> StoreResult<$crate::store::minting::Known> {
                let mut known = $crate::store::minting::Known::default();
                let parents: Vec<&Code> = batch.creates.iter().filter_map(|s| s.parent.as_ref()).collect();
                if !parents.is_empty() {
                    let mut query = sqlx::QueryBuilder::new(
                        "SELECT s.id, s.code, s.slug_key, s.link_id, s.depth, s.reserved_until, l.url AS link_url, \
                         l.disabled_at AS link_disabled_at, l.expires_at AS link_expires_at \
                         FROM shares s JOIN links l ON l.id = s.link_id WHERE s.code IN (",
                    );
                    let mut list = query.separated(", ");
                    for code in &parents {
                        list.push_bind(code.as_str());
                    }
                    query.push(") OR s.slug_key IN (");
                    let mut list = query.separated(", ");
                    for code in &parents {
                        list.push_bind(code.slug_key());
                    }
                    query.push(")");
                    known.parents = query.build_query_as().fetch_all(&mut **tx).await?;
                }
                let links: std::collections::BTreeSet<i64> = batch
                    .creates
                    .iter()
                    .filter_map(|s| match s.link {
                        ShareLink::Link(id) => Some(id),
                        ShareLink::SitePage(_) => None,
                    })
                    .collect();
                if !links.is_empty() {
                    let mut query = sqlx::QueryBuilder::new("SELECT id FROM links WHERE id IN (");
                    let mut list = query.separated(", ");
                    for id in &links {
                        list.push_bind(*id);
                    }
                    query.push(")");
                    let found: Vec<i64> = query.build_query_scalar().fetch_all(&mut **tx).await?;
                    known.links = found.into_iter().collect();
                }
                let channels: std::collections::BTreeSet<&str> = batch
                    .creates
                    .iter()
                    .filter_map(|s| match &s.channel {
                        Channel::Custom(name) => Some(name.as_str()),
                        Channel::Builtin(_) => None,
                    })
                    .collect();
                if !channels.is_empty() {
                    let mut query = sqlx::QueryBuilder::new("SELECT name FROM custom_channels WHERE name IN (");
                    let mut list = query.separated(", ");
                    for name in &channels {
                        list.push_bind(*name);
                    }
                    query.push(")");
                    let found: Vec<String> = query.build_query_scalar().fetch_all(&mut **tx).await?;
                    known.channels = found.into_iter().collect();
                }
                Ok(known)
            }

            /// Gives the shares that start a page's own cascade that page's link of its site,
            /// creating the link on the page's first share.
            async fn place_on_site_pages(
                tx: &mut sqlx::Transaction<'_, $db>,
                batch: &MintBatch,
                placements: &mut [Result<$crate::store::minting::Placement, MintRefusal>],
                now: i64,
            ) -> StoreResult<()> {
                let mut pages: std::collections::BTreeMap<(i64, &str), &SitePage> = std::collections::BTreeMap::new();
                for (share, placed) in batch.creates.iter().zip(placements.iter()) {
                    if let (ShareLink::SitePage(site_page), Ok(placed)) = (&share.link, placed)
                        && placed.link_id.is_none()
                    {
                        pages.entry((site_page.site_id, site_page.page.as_str())).or_insert(site_page);
                    }
                }
                if pages.is_empty() {
                    return Ok(());
                }
                let mut query = sqlx::QueryBuilder::new("INSERT INTO links (url, title, campaign, created_at, site_id) ");
                query.push_values(pages.values(), |mut row, page| {
                    row.push_bind(page.page.as_str())
                        .push_bind(page.title.as_deref())
                        .push_bind(page.campaign.as_deref())
                        .push_bind(now)
                        .push_bind(page.site_id);
                });
                query.push(" ON CONFLICT (site_id, url) DO NOTHING RETURNING campaign");
                let campaigns: Vec<Option<String>> = query.build_query_scalar().fetch_all(&mut **tx).await?;
                let campaigns: std::collections::BTreeSet<String> = campaigns.into_iter().flatten().collect();
                for campaign in campaigns {
                    sqlx::query(shared::ENSURE_CAMPAIGN).bind(campaign).bind(now).execute(&mut **tx).await?;
                }
                let mut query = sqlx::QueryBuilder::new("SELECT id, site_id, url FROM links WHERE site_id IN (");
                let mut list = query.separated(", ");
                for site_id in pages.keys().map(|(site_id, _)| *site_id).collect::<std::collections::BTreeSet<_>>() {
                    list.push_bind(site_id);
                }
                query.push(") AND url IN (");
                let mut list = query.separated(", ");
                for (_, url) in pages.keys() {
                    list.push_bind(*url);
                }
                query.push(")");
                let found: Vec<(i64, i64, String)> = query.build_query_as().fetch_all(&mut **tx).await?;
                for (share, placed) in batch.creates.iter().zip(placements.iter_mut()) {
                    let (ShareLink::SitePage(site_page), Ok(placement)) = (&share.link, &mut *placed) else { continue };
                    if placement.link_id.is_some() {
                        continue;
                    }
                    let link = found
                        .iter()
                        .find(|(_, site_id, url)| *site_id == site_page.site_id && url == site_page.page.as_str());
                    match link {
                        Some((id, ..)) => placement.link_id = Some(*id),
                        None => *placed = Err(MintRefusal::LinkNotFound),
                    }
                }
                Ok(())
            }

            /// Makes shares of the reservations sent, each once; a code already sent is fine,
            /// one not reserved (or past its time) is refused.
            async fn send_reserved(
                tx: &mut sqlx::Transaction<'_, $db>,
                sends: &[Code],
                now: i64,
                counted: &mut Vec<$crate::store::minting::CountedShare>,
            ) -> StoreResult<Vec<Result<i64, MintRefusal>>> {
                if sends.is_empty() {
                    return Ok(Vec::new());
                }
                // A share counts from the day it was sent, not the day it was reserved.
                let mut query = sqlx::QueryBuilder::new("UPDATE shares SET reserved_until = NULL, created_at = ");
                query.push_bind(now).push(" WHERE reserved_until > ").push_bind(now).push(" AND code IN (");
                let mut list = query.separated(", ");
                for code in sends {
                    list.push_bind(code.as_str());
                }
                query.push(") RETURNING link_id, parent_id, depth, channel");
                let promoted: Vec<(i64, Option<i64>, i64, String)> = query.build_query_as().fetch_all(&mut **tx).await?;
                counted.extend(promoted.into_iter().map(|(link_id, parent_id, depth, channel)| {
                    $crate::store::minting::CountedShare { link_id, parent_id, depth, channel }
                }));
                let mut query = sqlx::QueryBuilder::new("SELECT id, code FROM shares WHERE reserved_until IS NULL AND code IN (");
                let mut list = query.separated(", ");
                for code in sends {
                    list.push_bind(code.as_str());
                }
                query.push(")");
                let shares: Vec<(i64, String)> = query.build_query_as().fetch_all(&mut **tx).await?;
                Ok(sends
                    .iter()
                    .map(|code| {
                        shares
                            .iter()
                            .find(|(_, c)| c == code.as_str())
                            .map(|(id, _)| *id)
                            .ok_or(MintRefusal::NotReserved)
                    })
                    .collect())
            }

            /// Inserts the placed shares. A generated code that collides is drawn again; a taken
            /// slug is refused; an address-bar token already on the link is that share.
            async fn insert_shares(
                tx: &mut sqlx::Transaction<'_, $db>,
                batch: &MintBatch,
                placements: &[Result<$crate::store::minting::Placement, MintRefusal>],
                now: i64,
                counted: &mut Vec<$crate::store::minting::CountedShare>,
            ) -> StoreResult<Vec<Result<i64, MintRefusal>>> {
                let creates = &batch.creates;
                let mut ids: Vec<Option<Result<i64, MintRefusal>>> = placements
                    .iter()
                    .map(|p| match p {
                        Ok(placed) if placed.link_id.is_some() => None,
                        Ok(_) => Some(Err(MintRefusal::LinkNotFound)),
                        Err(refusal) => Some(Err(*refusal)),
                    })
                    .collect();
                Self::shares_of_tokens(tx, creates, placements, &mut ids).await?;
                let mut codes: Vec<Code> = creates.iter().map(|s| s.code.clone()).collect();
                const ATTEMPTS: usize = 8;
                for attempt in 1..=ATTEMPTS {
                    let pending: Vec<usize> = (0..creates.len()).filter(|&i| ids[i].is_none()).collect();
                    if pending.is_empty() {
                        break;
                    }
                    let mut query = sqlx::QueryBuilder::new(
                        "INSERT INTO shares (link_id, code, slug_key, channel, parent_id, depth, label, created_at, \
                         expires_at, token, reserved_until) ",
                    );
                    query.push_values(&pending, |mut row, &i| {
                        let (share, placed) = (&creates[i], placements[i].as_ref().ok());
                        row.push_bind(placed.and_then(|p| p.link_id))
                            .push_bind(codes[i].as_str())
                            .push_bind(share.is_slug.then(|| codes[i].slug_key()))
                            .push_bind(share.channel.as_str())
                            .push_bind(placed.and_then(|p| p.parent_id))
                            .push_bind(placed.map_or(1, |p| p.depth))
                            .push_bind(share.label.as_deref())
                            .push_bind(now)
                            .push_bind(share.expires_at)
                            .push_bind(share.token.as_deref())
                            .push_bind(share.reserved_until);
                    });
                    // DO NOTHING rather than catching the violation: PostgreSQL aborts a transaction
                    // on any error, and the rest of the batch must go on.
                    query.push(" ON CONFLICT DO NOTHING RETURNING id, code");
                    let inserted: Vec<(i64, String)> = query.build_query_as().fetch_all(&mut **tx).await?;
                    for i in pending {
                        let share = &creates[i];
                        if let Some((id, _)) = inserted.iter().find(|(_, code)| code == codes[i].as_str()) {
                            ids[i] = Some(Ok(*id));
                            if share.reserved_until.is_none()
                                && let Ok(placed) = &placements[i]
                            {
                                counted.push($crate::store::minting::CountedShare {
                                    link_id: placed.link_id.unwrap_or_default(),
                                    parent_id: placed.parent_id,
                                    depth: placed.depth,
                                    channel: share.channel.as_str().to_owned(),
                                });
                            }
                        } else if share.is_slug || share.token.is_some() || attempt == ATTEMPTS {
                            ids[i] = Some(Err(MintRefusal::CodeTaken));
                        } else {
                            codes[i] = Code::generate();
                        }
                    }
                }
                // A token refused above was taken by an arrival written meanwhile: that is its share.
                Self::shares_of_tokens(tx, creates, placements, &mut ids).await?;
                Ok(ids.into_iter().map(|id| id.unwrap_or(Err(MintRefusal::CodeTaken))).collect())
            }

            /// Fills in the address-bar shares whose token their link already has.
            async fn shares_of_tokens(
                tx: &mut sqlx::Transaction<'_, $db>,
                creates: &[NewShare],
                placements: &[Result<$crate::store::minting::Placement, MintRefusal>],
                ids: &mut [Option<Result<i64, MintRefusal>>],
            ) -> StoreResult<()> {
                fn open(id: &Option<Result<i64, MintRefusal>>) -> bool {
                    matches!(id, None | Some(Err(MintRefusal::CodeTaken)))
                }
                let tokens: Vec<&str> = (0..creates.len())
                    .filter(|&i| open(&ids[i]))
                    .filter_map(|i| creates[i].token.as_deref())
                    .collect();
                if tokens.is_empty() {
                    return Ok(());
                }
                let mut query = sqlx::QueryBuilder::new("SELECT id, link_id, token FROM shares WHERE token IN (");
                let mut list = query.separated(", ");
                for token in &tokens {
                    list.push_bind(*token);
                }
                query.push(")");
                let found: Vec<(i64, i64, String)> = query.build_query_as().fetch_all(&mut **tx).await?;
                for i in 0..creates.len() {
                    let (Some(token), Ok(placed)) = (creates[i].token.as_deref(), &placements[i]) else { continue };
                    if !open(&ids[i]) {
                        continue;
                    }
                    if let Some((id, ..)) = found.iter().find(|(_, link, t)| Some(*link) == placed.link_id && t == token) {
                        ids[i] = Some(Ok(*id));
                    }
                }
                Ok(())
            }

            /// Adds the shares that count from now on to their ancestors' subtree sizes and to
            /// their links' rollups, each row once for the whole batch.
            async fn count_shares(
                tx: &mut sqlx::Transaction<'_, $db>,
                counted: &[$crate::store::minting::CountedShare],
                now: i64,
            ) -> StoreResult<()> {
                use $crate::store::minting::{ShareTally, growth};
                if counted.is_empty() {
                    return Ok(());
                }
                let parents: std::collections::BTreeSet<i64> = counted.iter().filter_map(|c| c.parent_id).collect();
                let mut chains: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
                if !parents.is_empty() {
                    let ids = parents.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
                    let sql = $crate::store::mint_sql::ANCESTOR_CHAINS.replace("{ids}", &ids);
                    let rows: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **tx).await?;
                    for (start, id) in rows {
                        chains.entry(start).or_default().push(id);
                    }
                }
                let grows = growth(counted, &chains);
                let mut grown: Vec<(i64, u64, u64)> = Vec::new();
                if !grows.is_empty() {
                    let mut query = sqlx::QueryBuilder::new(
                        "UPDATE shares SET subtree_size = subtree_size + v.column2 FROM (",
                    );
                    query.push_values(&grows, |mut row, (id, (_, gained))| {
                        row.push_bind(*id).push_bind(*gained as i64);
                    });
                    query.push(") AS v WHERE shares.id = v.column1 RETURNING id, subtree_size");
                    let sizes: Vec<(i64, i64)> = query.build_query_as().fetch_all(&mut **tx).await?;
                    for (id, size) in sizes {
                        if let Some((link_id, gained)) = grows.get(&id) {
                            grown.push((*link_id, *gained, size.max(0) as u64));
                        }
                    }
                }
                let tally = ShareTally::new(counted, &grown, &$crate::clock::day_of(now));
                let mut query = sqlx::QueryBuilder::new(
                    "UPDATE links SET share_count = share_count + v.column2, child_shares = child_shares + v.column3, \
                     max_depth = CASE WHEN max_depth < v.column4 THEN v.column4 ELSE max_depth END, \
                     sum_sizes = sum_sizes + v.column5, sum_sq_sizes = sum_sq_sizes + v.column6 FROM (",
                );
                query.push_values(&tally.links, |mut row, (id, n)| {
                    row.push_bind(*id)
                        .push_bind(n.shares)
                        .push_bind(n.child_shares)
                        .push_bind(n.max_depth)
                        .push_bind(n.sum_sizes)
                        .push_bind(n.sum_sq_sizes);
                });
                query.push(") AS v WHERE links.id = v.column1");
                query.build().execute(&mut **tx).await?;
                let mut query = sqlx::QueryBuilder::new("INSERT INTO link_channel_stats (link_id, channel, shares) ");
                query.push_values(&tally.channels, |mut row, ((link, channel), n)| {
                    row.push_bind(*link).push_bind(channel.as_str()).push_bind(*n);
                });
                query.push(" ON CONFLICT (link_id, channel) DO UPDATE SET shares = link_channel_stats.shares + excluded.shares");
                query.build().execute(&mut **tx).await?;
                let mut query = sqlx::QueryBuilder::new("INSERT INTO link_depth_stats (link_id, depth, shares) ");
                query.push_values(&tally.depths, |mut row, ((link, depth), n)| {
                    row.push_bind(*link).push_bind(*depth).push_bind(*n);
                });
                query.push(" ON CONFLICT (link_id, depth) DO UPDATE SET shares = link_depth_stats.shares + excluded.shares");
                query.build().execute(&mut **tx).await?;
                let mut query = sqlx::QueryBuilder::new("INSERT INTO link_daily_stats (link_id, day, shares) ");
                query.push_values(&tally.days, |mut row, ((link, day), n)| {
                    row.push_bind(*link).push_bind(day.as_str()).push_bind(*n);
                });
                query.push(" ON CONFLICT (link_id, day) DO UPDATE SET shares = link_daily_stats.shares + excluded.shares");
                query.build().execute(&mut **tx).await?;
                Ok(())
            }

            async fn share_records(
                tx: &mut sqlx::Transaction<'_, $db>,
                ids: &[i64],
            ) -> StoreResult<std::collections::HashMap<i64, ShareRecord>> {
                if ids.is_empty() {
                    return Ok(std::collections::HashMap::new());
                }
                let mut query = sqlx::QueryBuilder::new($crate::store::mint_sql::SHARE_RECORDS);
                query.push(" WHERE s.id IN (");
                let mut list = query.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                query.push(")");
                let records: Vec<ShareRecord> = query.build_query_as().fetch_all(&mut **tx).await?;
                Ok(records.into_iter().map(|r| (r.id, r)).collect())
            }
        }
    };
}

pub(super) use impl_minting;
