//! The photos filed with a complaint, for the officials who handle it.

use super::*;
use crate::photos::{self, Evidence};

/// A complaint's photo, for staff who handle complaints.
pub async fn photo(ctx: &Ctx, official: &Actor, id: Uuid) -> AppResult<(String, Vec<u8>)> {
    official.require(Permission::Complaints)?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let photo = photos::open(ctx, &mut tx, Evidence::Complaint, id).await?;
    Ok((photo.content_type, photo.bytes))
}
