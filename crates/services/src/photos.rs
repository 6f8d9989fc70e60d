//! Evidence photos (a complaint's, an inspection's, an appeal's, a goods declaration's): sealed
//! where they are kept, and opened for whoever the use case lets see them.

use uuid::Uuid;

use crate::Ctx;
use crate::error::{AppError, AppResult};
use crate::pii::Place;
pub use nightmarket_db::photos::Evidence;
use nightmarket_db::{self as db, TenantTx};

/// An opened photo: whose it is (see [`Evidence`]), its content type and its bytes.
#[derive(Clone, Debug)]
pub struct Photo {
    pub owner: Uuid,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Where the photo `id` of `kind` is sealed for.
fn place(tx: &TenantTx, kind: Evidence, id: Uuid) -> Place<'static> {
    let (table, column) = kind.place();
    Place {
        tenant: tx.tenant(),
        table,
        column,
        row: id,
    }
}

/// The photo's bytes sealed for where they will be kept.
pub(crate) fn seal(ctx: &Ctx, tx: &TenantTx, kind: Evidence, id: Uuid, bytes: &[u8]) -> Vec<u8> {
    ctx.keys.seal(&place(tx, kind, id), bytes)
}

/// The photo `id` of `kind`, opened; not found when there is none. Who may see it is the
/// caller's to decide, from its owner.
pub(crate) async fn open(ctx: &Ctx, tx: &mut TenantTx, kind: Evidence, id: Uuid) -> AppResult<Photo> {
    let stored = db::photos::get(tx, kind, id).await?.ok_or(AppError::NotFound)?;
    let bytes = ctx.keys.open_stored(&place(tx, kind, id), &stored.sealed)?;
    Ok(Photo {
        owner: stored.owner,
        content_type: stored.content_type,
        bytes,
    })
}
