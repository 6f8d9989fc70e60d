//! Why something was refused, as data: a key of `locales/app.yml` with its arguments. The domain
//! says which message; the HTTP layer translates it into the reader's language
//! (`i18n::Lang::msg`).

/// A message to be translated when the response is rendered: a key of locales/app.yml with
/// arguments, or (rarely) a text that is already final, such as a parser's description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    key: &'static str,
    args: Vec<(&'static str, String)>,
    labels: Vec<(&'static str, Vec<&'static str>)>,
    raw: Option<String>,
}

impl Msg {
    pub fn new(key: &'static str) -> Msg {
        Msg {
            key,
            args: Vec::new(),
            labels: Vec::new(),
            raw: None,
        }
    }

    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Msg {
        self.args.push((name, value.to_string()));
        self
    }

    /// An argument that is itself a key of locales/app.yml (a state's or a category's name),
    /// translated into the reader's language with the message.
    pub fn label(mut self, name: &'static str, key: &'static str) -> Msg {
        self.labels.push((name, vec![key]));
        self
    }

    /// An argument that is a list of keys (the missing documents' kinds), each translated and
    /// joined as the reader's language joins a list.
    pub fn label_list(mut self, name: &'static str, keys: Vec<&'static str>) -> Msg {
        self.labels.push((name, keys));
        self
    }

    /// The arguments that are keys to translate (see [`Msg::label`], [`Msg::label_list`]).
    pub fn labels(&self) -> impl Iterator<Item = (&'static str, &[&'static str])> {
        self.labels.iter().map(|(name, keys)| (*name, keys.as_slice()))
    }

    /// A message prefixed by a translated sentence, for details only a parser can give.
    pub fn with_detail(key: &'static str, detail: impl Into<String>) -> Msg {
        Msg {
            key,
            args: Vec::new(),
            labels: Vec::new(),
            raw: Some(detail.into()),
        }
    }

    pub fn key(&self) -> &'static str {
        self.key
    }

    /// The arguments the translation's `%{name}` placeholders are filled with.
    pub fn args(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.args.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// A parser's own description, shown after the translated sentence.
    pub fn detail(&self) -> Option<&str> {
        self.raw.as_deref()
    }

    /// The value of argument `name`, if given (for tests and logs).
    pub fn arg_value(&self, name: &str) -> Option<&str> {
        self.args().find(|(k, _)| *k == name).map(|(_, v)| v)
    }
}

/// A problem with one input field, shown next to that field in forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub msg: Msg,
}

impl FieldError {
    pub fn new(field: &'static str, key: &'static str) -> FieldError {
        FieldError {
            field,
            msg: Msg::new(key),
        }
    }

    pub fn with(field: &'static str, msg: Msg) -> FieldError {
        FieldError { field, msg }
    }
}
