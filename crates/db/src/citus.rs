//! How the schema, as it stands, distributes on a Citus cluster: read from PostgreSQL's catalog,
//! never from a list kept by hand, so a new table is planned (or reported) the day it is added.
//!
//! Every table with a `tenant_id` column is distributed by it, all co-located, so a request's
//! statements (which all carry the tenant) go to one worker. `tenants` is a reference table
//! (copied to every worker; the tenant tables' foreign keys point at it). Tables without a tenant
//! (the shared limits, job runs, the migration ledger) stay on the coordinator. Citus accepts
//! this only if every primary key, unique constraint or unique index of a distributed table
//! includes `tenant_id`, and every foreign key between distributed tables maps `tenant_id` to
//! `tenant_id`: [`Plan::problems`] lists what breaks those rules.

use sqlx::PgPool;
use std::collections::{BTreeMap, BTreeSet};

/// The reference tables: shared by every tenant, read with tenant rows.
pub const REFERENCE: &[&str] = &["tenants"];

#[derive(Debug, Default)]
pub struct Plan {
    pub reference: Vec<String>,
    /// In an order Citus accepts: a table after every distributed table it refers to.
    pub distributed: Vec<String>,
    /// Tables that stay on the coordinator.
    pub local: Vec<String>,
    /// Constraints Citus would refuse, as sentences.
    pub problems: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct Constraint {
    table: String,
    name: String,
    kind: String,
    columns: Vec<String>,
    referenced: Option<String>,
    referenced_columns: Vec<String>,
}

/// Reads the plan from the database's catalog (schema `public`).
pub async fn plan(db: &PgPool) -> Result<Plan, sqlx::Error> {
    let tables: Vec<(String, bool)> = sqlx::query_as(
        "select c.relname::text,
                exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id'
                        and not a.attisdropped)
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
         order by 1",
    )
    .fetch_all(db)
    .await?;
    // Constraints, and unique indexes that are not constraints (Citus holds both to the rule).
    let constraints: Vec<Constraint> = sqlx::query_as(
        "select t.relname::text as table, k.conname::text as name, k.contype::text as kind,
                array(select a.attname::text from unnest(k.conkey) with ordinality u(n, i)
                      join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.n order by u.i) as columns,
                r.relname::text as referenced,
                coalesce(array(select a.attname::text from unnest(k.confkey) with ordinality u(n, i)
                      join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.n order by u.i),
                         '{}') as referenced_columns
         from pg_constraint k
         join pg_class t on t.oid = k.conrelid
         join pg_namespace n on n.oid = t.relnamespace
         left join pg_class r on r.oid = k.confrelid
         where n.nspname = 'public' and k.contype in ('p', 'u', 'f')
         union all
         select t.relname::text, i.relname::text, 'i',
                array(select coalesce(a.attname::text, '(expression)') from unnest(x.indkey) with ordinality u(n, o)
                      left join pg_attribute a on a.attrelid = x.indrelid and a.attnum = u.n order by u.o),
                null, '{}'
         from pg_index x
         join pg_class i on i.oid = x.indexrelid
         join pg_class t on t.oid = x.indrelid
         join pg_namespace n on n.oid = t.relnamespace
         where n.nspname = 'public' and x.indisunique
           and not exists (select 1 from pg_constraint k where k.conindid = x.indexrelid)
         order by 1, 2",
    )
    .fetch_all(db)
    .await?;
    Ok(Plan::from_catalog(&tables, &constraints))
}

impl Plan {
    fn from_catalog(tables: &[(String, bool)], constraints: &[Constraint]) -> Plan {
        let mut plan = Plan::default();
        let tenant: BTreeSet<&str> = tables
            .iter()
            .filter(|(t, has)| *has && !REFERENCE.contains(&t.as_str()))
            .map(|(t, _)| t.as_str())
            .collect();
        for (t, has) in tables {
            if REFERENCE.contains(&t.as_str()) {
                plan.reference.push(t.clone());
            } else if !has {
                plan.local.push(t.clone());
            }
        }
        // Parents first: what each tenant table refers to among the tenant tables.
        let mut parents: BTreeMap<&str, BTreeSet<&str>> = tenant.iter().map(|t| (*t, BTreeSet::new())).collect();
        for c in constraints.iter().filter(|c| tenant.contains(c.table.as_str())) {
            let has_tenant = c.columns.iter().any(|col| col == "tenant_id");
            match (c.kind.as_str(), c.referenced.as_deref()) {
                ("f", Some(r)) if tenant.contains(r) => {
                    if r != c.table {
                        parents.entry(c.table.as_str()).or_default().insert(r);
                    }
                    let paired = c
                        .columns
                        .iter()
                        .zip(&c.referenced_columns)
                        .any(|(a, b)| a == "tenant_id" && b == "tenant_id");
                    if !paired {
                        plan.problems.push(format!(
                            "foreign key {} of {} to {} does not map tenant_id to tenant_id",
                            c.name, c.table, r
                        ));
                    }
                }
                ("f", Some(r)) if !REFERENCE.contains(&r) => plan.problems.push(format!(
                    "foreign key {} of {} refers to {r}, which is neither a tenant table nor a reference table",
                    c.name, c.table
                )),
                ("p" | "u" | "i", _) if !has_tenant => plan.problems.push(format!(
                    "{} {} of {} does not include tenant_id",
                    match c.kind.as_str() {
                        "p" => "primary key",
                        "u" => "unique constraint",
                        _ => "unique index",
                    },
                    c.name,
                    c.table
                )),
                _ => {}
            }
        }
        // Kahn's algorithm, alphabetical among the ready, so the plan reads the same every time.
        let mut done: BTreeSet<&str> = BTreeSet::new();
        while done.len() < tenant.len() {
            let ready: Vec<&str> = tenant
                .iter()
                .filter(|t| !done.contains(*t) && parents[*t].iter().all(|p| done.contains(p)))
                .copied()
                .collect();
            if ready.is_empty() {
                let cycle: Vec<&str> = tenant.iter().filter(|t| !done.contains(*t)).copied().collect();
                plan.problems
                    .push(format!("foreign keys form a circle among {}", cycle.join(", ")));
                plan.distributed.extend(cycle.iter().map(|t| t.to_string()));
                break;
            }
            for t in ready {
                done.insert(t);
                plan.distributed.push(t.to_string());
            }
        }
        plan
    }

    /// The SQL that distributes the schema, to run on the coordinator once the data is there
    /// (Citus copies existing rows to the shards).
    pub fn sql(&self) -> String {
        let mut out = String::from(
            "-- nightmarket on Citus: generated by `nightmarket citus plan` from the schema as it is.\n\
             -- Run on the coordinator, as the owner, with the application stopped.\n\
             create extension if not exists citus;\n\
             -- Row-level security reads app.tenant_id, which the server sets with SET LOCAL; the\n\
             -- workers see it only if Citus forwards it.\n\
             alter system set citus.propagate_set_commands = 'local';\n\
             select pg_reload_conf();\n\
             -- The audit chain and the scan-change notices are triggers on distributed tables.\n\
             alter system set citus.enable_unsafe_triggers = on;\n\
             select pg_reload_conf();\n\n",
        );
        for t in &self.reference {
            out.push_str(&format!("select create_reference_table('{t}');\n"));
        }
        let first = self.distributed.first();
        for t in &self.distributed {
            match first {
                Some(f) if f != t => out.push_str(&format!(
                    "select create_distributed_table('{t}', 'tenant_id', colocate_with => '{f}');\n"
                )),
                _ => out.push_str(&format!("select create_distributed_table('{t}', 'tenant_id');\n")),
            }
        }
        if !self.local.is_empty() {
            out.push_str(&format!(
                "-- Stay on the coordinator (no tenant): {}.\n",
                self.local.join(", ")
            ));
        }
        for p in &self.problems {
            out.push_str(&format!("-- PROBLEM: {p}\n"));
        }
        out
    }
}
