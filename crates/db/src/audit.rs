//! The audit trail and its hash chain (see migrations/0002_audit.sql).

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde_json::Value;
use uuid::Uuid;

use super::TenantTx;

pub struct NewRecord<'a> {
    pub actor_kind: &'a str,
    pub actor_id: Option<Uuid>,
    pub actor_label: &'a str,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub request_id: Option<&'a str>,
}

/// Appends a record; the trigger assigns its sequence number and hashes. Returns the sequence.
pub async fn insert(tx: &mut TenantTx, r: NewRecord<'_>) -> Result<i64, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        "insert into audit_log (tenant_id, seq, actor_kind, actor_id, actor_label, action, subject_type,
                                subject_id, before, after, request_id, prev_hash, hash)
         values ($1, 0, $2, $3, $4, $5, $6, $7, $8, $9, $10, '', '')
         returning seq",
        tenant,
        r.actor_kind,
        r.actor_id,
        r.actor_label,
        r.action,
        r.subject_type,
        r.subject_id,
        r.before,
        r.after,
        r.request_id
    )
    .fetch_one(tx.conn())
    .await
}

#[derive(Clone, Debug)]
pub struct RecordRow {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_label: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// The most recent records about one subject, newest first.
pub async fn for_subject(
    tx: &mut TenantTx,
    subject_type: &str,
    subject_id: &str,
    limit: i64,
) -> Result<Vec<RecordRow>, sqlx::Error> {
    sqlx::query_as!(
        RecordRow,
        "select seq, at, actor_kind, actor_label, action, subject_type, subject_id, before, after
         from audit_log
         where tenant_id = $4 and subject_type = $1 and subject_id = $2
         order by seq desc
         limit $3",
        subject_type,
        subject_id,
        limit,
        tx.tenant().0
    )
    .fetch_all(tx.conn())
    .await
}

/// What the audit viewer filters by; empty fields match everything.
#[derive(Clone, Debug, Default)]
pub struct Search<'a> {
    /// Part of the actor's label (login or name as of the action), case-insensitive.
    pub actor: &'a str,
    /// The action or its beginning (`complaint.` for every complaint action).
    pub action: &'a str,
    /// Any of these actions (words typed and matched to actions' names); none matched is nothing.
    pub actions: Option<&'a [String]>,
    /// A subject type (`complaint`) or a subject id.
    pub subject: &'a str,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only records older than this sequence number (paging back).
    pub before_seq: Option<i64>,
}

/// Records matching a search, newest first.
pub async fn search(tx: &mut TenantTx, s: &Search<'_>, limit: i64) -> Result<Vec<FullRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let actor = format!(
        "%{}%",
        s.actor.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
    );
    let action = format!(
        "{}%",
        s.action.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
    );
    sqlx::query_as!(
        FullRow,
        r#"select seq, at, actor_kind, actor_label, action, subject_type, subject_id, before, after, request_id
           from audit_log
           where tenant_id = $1
             and ($2 = '%%' or actor_label ilike $2)
             and ($3 = '%' or action like $3)
             and ($4 = '' or subject_type = $4 or subject_id = $4)
             and ($5::timestamptz is null or at >= $5)
             and ($6::timestamptz is null or at < $6)
             and ($7::bigint is null or seq < $7)
             and ($9::text[] is null or action = any($9))
           order by seq desc
           limit $8"#,
        tenant,
        actor,
        action,
        s.subject.trim(),
        s.from,
        s.until,
        s.before_seq,
        limit,
        s.actions
    )
    .fetch_all(tx.conn())
    .await
}

/// A record as the audit viewer shows it.
#[derive(Clone, Debug)]
pub struct FullRow {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_label: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub request_id: Option<String>,
}

/// How many records the tenant's chains hold, by their heads (0 for none): it changes with every
/// record written, so it keys what was verified.
pub async fn head(tx: &mut TenantTx) -> Result<i64, sqlx::Error> {
    let tenant = tx.tenant().0;
    let links: Option<i64> = sqlx::query_scalar!(
        r#"select sum(link)::bigint from audit_chain_heads where tenant_id = $1"#,
        tenant
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(links.unwrap_or(0))
}

/// One link of a chain as stored, with the hash recomputed from its content.
#[derive(Clone, Debug)]
pub struct Link {
    pub seq: i64,
    pub chain: i16,
    pub link: i64,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
    pub recomputed: Vec<u8>,
    /// A version-2 record's content still matches its content hash (or was redacted).
    pub content_kept: bool,
    /// The hash before the chain's first link.
    pub genesis: Vec<u8>,
}

/// What verification found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainBreak {
    /// A record's content no longer matches its hash (it was edited).
    Altered { seq: i64 },
    /// A record does not point at the one before it in its chain (one was removed or re-linked).
    Relinked { seq: i64 },
    /// Links of a chain jump (records were removed).
    Gap { chain: i16, after: i64, next: i64 },
    /// A chain ends before its head says it should (its newest records were removed).
    Truncated { chain: i16, last: i64, head: i64 },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Altered { seq } => write!(f, "record {seq} was altered: its content does not match its hash"),
            ChainBreak::Relinked { seq } => {
                write!(f, "record {seq} does not link to the record before it")
            }
            ChainBreak::Gap { chain, after, next } => {
                write!(f, "links {} to {} of chain {chain} are missing", after + 1, next - 1)
            }
            ChainBreak::Truncated { chain, last, head } => {
                write!(
                    f,
                    "chain {chain} ends at link {last} but its head says {head}: the newest records were removed"
                )
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Verification {
    pub records: i64,
    pub breaks: Vec<ChainBreak>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.breaks.is_empty()
    }
}

/// Where a chain's walk has got to.
struct Walk {
    chain: i16,
    last_link: i64,
    last_hash: Vec<u8>,
}

/// Walks each of the tenant's chains, oldest first, in the given transaction, and holds each
/// against its head (migrations/0020_audit_chains.sql).
pub async fn verify(tx: &mut TenantTx) -> Result<Verification, sqlx::Error> {
    let tenant = tx.tenant().0;
    let mut heads: std::collections::BTreeMap<i16, (i64, Vec<u8>)> = sqlx::query!(
        "select chain, link, hash from audit_chain_heads where tenant_id = $1",
        tenant
    )
    .fetch_all(tx.conn())
    .await?
    .into_iter()
    .map(|h| (h.chain, (h.link, h.hash)))
    .collect();

    let mut breaks = Vec::new();
    let mut records = 0i64;
    let mut walk: Option<Walk> = None;
    // A chain's end against its head (a chain without a head has head 0).
    let finish =
        |w: Walk, heads: &mut std::collections::BTreeMap<i16, (i64, Vec<u8>)>, breaks: &mut Vec<ChainBreak>| {
            let (head, hash) = heads.remove(&w.chain).unwrap_or((0, Vec::new()));
            if head != w.last_link || hash != w.last_hash {
                breaks.push(ChainBreak::Truncated {
                    chain: w.chain,
                    last: w.last_link,
                    head,
                });
            }
        };
    {
        let mut links = sqlx::query_as!(
            Link,
            r#"select seq, chain, link, prev_hash, hash,
                      case when hash_version = 1
                           then audit_record_hash(prev_hash, tenant_id, seq, at, actor_kind, actor_id, actor_label,
                                                  action, subject_type, subject_id, before, after, request_id)
                           else audit_record_hash_v2(prev_hash, tenant_id, seq, at, actor_kind, actor_id, action,
                                                     subject_type, subject_id, content_hash, request_id)
                      end as "recomputed!",
                      -- Version 2 keeps its content apart: a record not redacted must match it.
                      (hash_version = 1 or redacted_at is not null
                       or content_hash = audit_content_hash(actor_label, before, after)) as "content_kept!",
                      audit_chain_genesis(tenant_id, chain) as "genesis!"
               from audit_log
               where tenant_id = $1
               order by chain, link"#,
            tenant
        )
        .fetch(tx.conn());
        while let Some(link) = links.try_next().await? {
            records += 1;
            let mut w = match walk.take() {
                Some(w) if w.chain == link.chain => w,
                other => {
                    if let Some(done) = other {
                        finish(done, &mut heads, &mut breaks);
                    }
                    Walk {
                        chain: link.chain,
                        last_link: 0,
                        last_hash: link.genesis.clone(),
                    }
                }
            };
            if link.link != w.last_link + 1 {
                breaks.push(ChainBreak::Gap {
                    chain: link.chain,
                    after: w.last_link,
                    next: link.link,
                });
            } else if link.prev_hash != w.last_hash {
                breaks.push(ChainBreak::Relinked { seq: link.seq });
            }
            if link.recomputed != link.hash || !link.content_kept {
                breaks.push(ChainBreak::Altered { seq: link.seq });
            }
            w.last_link = link.link;
            w.last_hash = link.hash;
            walk = Some(w);
        }
    }
    if let Some(done) = walk {
        finish(done, &mut heads, &mut breaks);
    }
    // Heads whose chain has no record left at all (a head at 0 is a chain begun and rolled back).
    for (chain, (head, _)) in heads {
        if head > 0 {
            breaks.push(ChainBreak::Truncated { chain, last: 0, head });
        }
    }
    Ok(Verification { records, breaks })
}

/// The current tenant's records written by `actor` or about one of `subjects`: what an erasure
/// redacts. Returns (seq, hash_version, already redacted).
pub async fn about(tx: &mut TenantTx, actor: Uuid, subjects: &[String]) -> Result<Vec<(i64, i16, bool)>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let rows = sqlx::query!(
        r#"select seq, hash_version, redacted_at is not null as "redacted!" from audit_log
           where tenant_id = $1 and (actor_id = $2 or subject_id = any($3))"#,
        tenant,
        actor,
        subjects
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (r.seq, r.hash_version, r.redacted)).collect())
}

/// Empties the personal content (actor label, before, after) of the current tenant's version-2
/// records `seqs`, keeping their content hashes (migrations/0027_erasure.sql); returns how many.
/// Only in the transaction that marked erasure request `request` approved.
pub async fn redact(tx: &mut TenantTx, request: Uuid, seqs: &[i64]) -> Result<i64, sqlx::Error> {
    let n = sqlx::query_scalar!(r#"select audit_redact($1, $2) as "n!""#, request, seqs)
        .fetch_one(tx.conn())
        .await?;
    Ok(n)
}
