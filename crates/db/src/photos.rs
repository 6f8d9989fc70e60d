//! The photos kept as evidence — filed with a complaint, taken at an inspection, backing an
//! appeal, of a goods declaration — read back the same way: sealed at rest, each with whose
//! it is.

use uuid::Uuid;

use super::TenantTx;

/// Which photos: each kind is kept in its own table (or column of its case).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// Filed with a complaint (its owner is the complaint).
    Complaint,
    /// Taken at an inspection (its owner is the inspection).
    Inspection,
    /// Backing an appeal (its owner is the appealing vendor).
    Appeal,
    /// Of a goods declaration (its owner is the declaring vendor).
    Goods,
}

impl Evidence {
    /// The table and column the sealed bytes are kept in; with the photo's id, where they
    /// were sealed for.
    pub fn place(self) -> (&'static str, &'static str) {
        match self {
            Evidence::Complaint => ("complaint_photos", "data_enc"),
            Evidence::Inspection => ("inspection_photos", "data_enc"),
            Evidence::Appeal => ("appeals", "photo_enc"),
            Evidence::Goods => ("goods_sources", "photo_enc"),
        }
    }
}

/// A photo as stored: whose it is (see [`Evidence`]), its content type and the sealed bytes.
#[derive(Clone, Debug)]
pub struct SealedPhoto {
    pub owner: Uuid,
    pub content_type: String,
    pub sealed: Vec<u8>,
}

/// A photo of `kind`, if there is one with this id.
pub async fn get(tx: &mut TenantTx, kind: Evidence, id: Uuid) -> Result<Option<SealedPhoto>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let conn = tx.conn();
    match kind {
        Evidence::Complaint => {
            sqlx::query_as!(
                SealedPhoto,
                r#"select complaint_id as owner, content_type, data_enc as sealed from complaint_photos
               where tenant_id = $1 and id = $2"#,
                tenant,
                id
            )
            .fetch_optional(conn)
            .await
        }
        Evidence::Inspection => {
            sqlx::query_as!(
                SealedPhoto,
                r#"select inspection_id as owner, content_type, data_enc as sealed from inspection_photos
               where tenant_id = $1 and id = $2"#,
                tenant,
                id
            )
            .fetch_optional(conn)
            .await
        }
        Evidence::Appeal => {
            sqlx::query_as!(
                SealedPhoto,
                r#"select vendor_id as owner, photo_type as "content_type!", photo_enc as "sealed!" from appeals
               where tenant_id = $1 and id = $2 and photo_enc is not null"#,
                tenant,
                id
            )
            .fetch_optional(conn)
            .await
        }
        Evidence::Goods => {
            sqlx::query_as!(
                SealedPhoto,
                r#"select vendor_id as owner, photo_type as "content_type!", photo_enc as "sealed!" from goods_sources
               where tenant_id = $1 and id = $2 and photo_enc is not null"#,
                tenant,
                id
            )
            .fetch_optional(conn)
            .await
        }
    }
}
