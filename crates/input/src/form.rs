//! Form-encoded requests (Open311 intake), whose fields may come in the query string or the body.

/// Form fields as sent (a key may appear in the query string or the body).
pub fn fields(query: Option<&str>, body: &[u8]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    if let Some(q) = query {
        out.extend(url::form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    out
}
