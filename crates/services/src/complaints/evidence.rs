//! The photos filed with a complaint, for the officials who handle it.

use super::*;

/// A complaint's photo, for staff who handle complaints.
pub async fn photo(ctx: &Ctx, official: &Actor, id: Uuid) -> AppResult<(String, Vec<u8>)> {
    official.require(Permission::Complaints)?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let (_, content_type, sealed) = db::complaints::photo(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let bytes = ctx
        .keys
        .open(&photo_place(&tx, id), &sealed)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("complaint photo {id}: {e}")))?;
    Ok((content_type, bytes))
}
