//! Reads the one declaration of HPy's calling conventions, `hpy-sys/hpyfunc.txt`
//! (its header comment is the grammar), and checks each line for consistency:
//! every impl parameter has exactly one conversion, every conversion names
//! fields of the trampoline with the right C types, results match.

/// One `HPyFunc_*` signature.
#[derive(Debug, Clone)]
pub struct Sig {
    pub name: String,
    pub number: u32,
    /// The implementation's C type, if this table declares one.
    pub imp: Option<CFunc>,
    /// The CPython-facing trampoline, if there is one.
    pub tramp: Option<Tramp>,
    pub dispatch: Dispatch,
}

#[derive(Debug, Clone)]
pub struct CFunc {
    pub ret: String,
    /// Parameter declarations as written (`HPy self`, `HPy_buffer *`).
    pub params: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Tramp {
    pub ret: String,
    pub params: Vec<TParam>,
}

#[derive(Debug, Clone)]
pub struct TParam {
    /// The C type CPython passes (`int`).
    pub ty: String,
    pub name: String,
    /// The type it is stored with in the argument block (`HPy_RichCmpOp`).
    pub stored: String,
}

#[derive(Debug, Clone)]
pub enum Dispatch {
    /// Derived from the table: one conversion per impl parameter after ctx.
    Regular { args: Vec<Arg>, result: Res },
    /// Written by hand (dispatchers and the CPython-ABI trampoline).
    Hand,
    /// No trampoline at all.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub kind: ArgKind,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    Obj,
    Val,
    Array,
    KwArray,
    Nargsf,
    TupleItems,
    TupleLen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Res {
    Obj,
    Val,
    Module,
    Void,
}

impl ArgKind {
    fn parse(s: &str) -> Option<(ArgKind, usize)> {
        Some(match s {
            "obj" => (ArgKind::Obj, 1),
            "val" => (ArgKind::Val, 1),
            "array" => (ArgKind::Array, 2),
            "kwarray" => (ArgKind::KwArray, 3),
            "nargsf" => (ArgKind::Nargsf, 1),
            "tuple_items" => (ArgKind::TupleItems, 1),
            "tuple_len" => (ArgKind::TupleLen, 1),
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ArgKind::Obj => "obj",
            ArgKind::Val => "val",
            ArgKind::Array => "array",
            ArgKind::KwArray => "kwarray",
            ArgKind::Nargsf => "nargsf",
            ArgKind::TupleItems => "tuple_items",
            ArgKind::TupleLen => "tuple_len",
        }
    }
}

impl Res {
    pub fn name(self) -> &'static str {
        match self {
            Res::Obj => "obj",
            Res::Val => "val",
            Res::Module => "module",
            Res::Void => "void",
        }
    }
}

impl Sig {
    /// `HPyFunc_<name in lower case>`, the impl typedef.
    pub fn typedef(&self) -> String {
        format!("HPyFunc_{}", self.name.to_lowercase())
    }

    /// The trampoline parameters stored in the argument block, in order.
    pub fn stored(&self) -> Vec<&TParam> {
        let Some(t) = &self.tramp else {
            return Vec::new();
        };
        match &self.dispatch {
            Dispatch::Regular { args, .. } => t
                .params
                .iter()
                .filter(|p| args.iter().any(|a| a.fields.contains(&p.name)))
                .collect(),
            _ => t.params.iter().collect(),
        }
    }

    pub fn field(&self, name: &str) -> &TParam {
        let t = self.tramp.as_ref().expect("checked by parse");
        t.params.iter().find(|p| p.name == name).expect("checked")
    }
}

/// `a  *b` → `a *b`: whitespace folded, none after `*`.
pub fn norm(ty: &str) -> String {
    let s = ty.split_whitespace().collect::<Vec<_>>().join(" ");
    s.replace("* ", "*").trim().to_string()
}

/// The type part of a parameter declaration (`const HPy *args` → `const HPy *`,
/// `HPy_ssize_t` → `HPy_ssize_t`).
pub fn param_type(decl: &str) -> String {
    let d = decl.trim();
    let start = d
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map(|i| i + 1)
        .unwrap_or(0);
    let head = d[..start].trim();
    if start == 0 || head.is_empty() || head == "const" || head == "unsigned" {
        norm(d) // a lone type name: no parameter name
    } else {
        norm(head)
    }
}

pub fn parse(text: &str) -> Result<Vec<Sig>, String> {
    let mut sigs: Vec<Sig> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let sig = parse_line(line).map_err(|e| format!("hpyfunc.txt:{}: {e}", i + 1))?;
        if sigs
            .iter()
            .any(|s| s.name == sig.name || s.number == sig.number)
        {
            return Err(format!(
                "hpyfunc.txt:{}: {} or its number is declared twice",
                i + 1,
                sig.name
            ));
        }
        sigs.push(sig);
    }
    Ok(sigs)
}

fn parse_line(line: &str) -> Result<Sig, String> {
    let cols: Vec<&str> = line.split(" | ").map(str::trim).collect();
    let [head, imp, tramp, conv] = cols[..] else {
        return Err("expected `NAME = NUMBER | IMPL | TRAMPOLINE | ARGS -> RESULT`".into());
    };
    let (name, number) = head.split_once('=').ok_or("expected `NAME = NUMBER`")?;
    let name = name.trim().to_string();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(format!("bad signature name `{name}`"));
    }
    let number = number
        .trim()
        .parse()
        .map_err(|_| format!("bad number in `{head}`"))?;
    let imp = match imp {
        "-" => None,
        s => {
            let (ret, params) = split_func(s)?;
            Some(CFunc {
                ret,
                params: params.iter().map(|p| p.to_string()).collect(),
            })
        }
    };
    let tramp = match tramp {
        "-" => None,
        s => {
            let (ret, params) = split_func(s)?;
            let params = params
                .iter()
                .map(|p| tramp_param(p))
                .collect::<Result<Vec<_>, _>>()?;
            Some(Tramp { ret, params })
        }
    };
    let dispatch = match conv {
        "hand" => Dispatch::Hand,
        "-" => Dispatch::None,
        s => {
            let (args, res) = s.rsplit_once("->").ok_or("expected `ARGS -> RESULT`")?;
            let result = match res.trim() {
                "obj" => Res::Obj,
                "val" => Res::Val,
                "module" => Res::Module,
                "void" => Res::Void,
                r => return Err(format!("unknown result conversion `{r}`")),
            };
            Dispatch::Regular {
                args: parse_args(args)?,
                result,
            }
        }
    };
    let sig = Sig {
        name,
        number,
        imp,
        tramp,
        dispatch,
    };
    check(&sig)?;
    Ok(sig)
}

/// `ret (a, b)` → (`ret`, [`a`, `b`]).
fn split_func(s: &str) -> Result<(String, Vec<&str>), String> {
    let open = s
        .find('(')
        .ok_or_else(|| format!("expected `ret (params)`: {s}"))?;
    let inner = s[open + 1..]
        .strip_suffix(')')
        .ok_or_else(|| format!("expected `ret (params)`: {s}"))?;
    let params = inner
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    Ok((norm(&s[..open]), params))
}

fn tramp_param(decl: &str) -> Result<TParam, String> {
    let (decl, stored) = match decl.split_once(" as ") {
        Some((d, s)) => (d.trim(), Some(norm(s))),
        None => (decl.trim(), None),
    };
    let start = decl
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map(|i| i + 1)
        .unwrap_or(0);
    let (ty, name) = (norm(&decl[..start]), &decl[start..]);
    if ty.is_empty() || name.is_empty() {
        return Err(format!("trampoline parameter without a name: {decl}"));
    }
    Ok(TParam {
        stored: stored.unwrap_or_else(|| ty.clone()),
        ty,
        name: name.to_string(),
    })
}

fn parse_args(s: &str) -> Result<Vec<Arg>, String> {
    let mut args = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let open = rest
            .find('(')
            .ok_or_else(|| format!("expected `kind(fields)`: {rest}"))?;
        let close = rest
            .find(')')
            .ok_or_else(|| format!("unclosed `(`: {rest}"))?;
        let kind_name = rest[..open].trim();
        let (kind, arity) = ArgKind::parse(kind_name)
            .ok_or_else(|| format!("unknown argument conversion `{kind_name}`"))?;
        let fields: Vec<String> = rest[open + 1..close]
            .split(',')
            .map(|f| f.trim().to_string())
            .collect();
        if fields.len() != arity {
            return Err(format!("{kind_name} takes {arity} field(s)"));
        }
        args.push(Arg { kind, fields });
        rest = rest[close + 1..]
            .trim_start()
            .trim_start_matches(',')
            .trim_start();
    }
    Ok(args)
}

fn check(sig: &Sig) -> Result<(), String> {
    let Dispatch::Regular { args, result } = &sig.dispatch else {
        return Ok(());
    };
    let (Some(imp), Some(tramp)) = (&sig.imp, &sig.tramp) else {
        return Err("a derived signature needs IMPL and TRAMPOLINE".into());
    };
    if imp.params.first().map(|p| param_type(p)) != Some("HPyContext *".into()) {
        return Err("a derived signature's impl takes the context first".into());
    }
    let params = &imp.params[1..];
    if args.len() != params.len() {
        return Err(format!(
            "{} conversions for {} impl parameters after ctx",
            args.len(),
            params.len()
        ));
    }
    for (a, p) in args.iter().zip(params) {
        let pty = param_type(p);
        for f in &a.fields {
            if !tramp.params.iter().any(|t| &t.name == f) {
                return Err(format!(
                    "{}({f}): no trampoline parameter `{f}`",
                    a.kind.name()
                ));
            }
        }
        let f0 = tramp.params.iter().find(|t| t.name == a.fields[0]).unwrap();
        let want = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "{}({}): {what}",
                    a.kind.name(),
                    a.fields.join(", ")
                ))
            }
        };
        match a.kind {
            ArgKind::Obj => want(
                f0.stored == "cpy_PyObject *" && pty == "HPy",
                "takes a cpy_PyObject * field to an HPy parameter",
            )?,
            ArgKind::Array | ArgKind::KwArray => want(
                f0.stored == "cpy_PyObject *const *" && pty == "const HPy *",
                "takes a cpy_PyObject *const * field to a const HPy * parameter",
            )?,
            ArgKind::TupleItems => want(
                f0.stored == "cpy_PyObject *" && pty == "const HPy *",
                "takes a cpy_PyObject * field to a const HPy * parameter",
            )?,
            ArgKind::TupleLen => want(pty == "HPy_ssize_t", "gives an HPy_ssize_t")?,
            ArgKind::Nargsf => want(pty == "size_t", "gives a size_t")?,
            ArgKind::Val => want(f0.stored != "cpy_PyObject *", "passes no object (use obj)")?,
        }
    }
    let ok = match result {
        Res::Obj | Res::Module => imp.ret == "HPy" && tramp.ret == "cpy_PyObject *",
        Res::Val => imp.ret == tramp.ret && imp.ret != "void",
        Res::Void => imp.ret == "void" && tramp.ret == "void",
    };
    if !ok {
        return Err(format!(
            "result `{}` does not fit {} -> {}",
            result.name(),
            imp.ret,
            tramp.ret
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const O: &str = "O = 4 | HPy (HPyContext *ctx, HPy self, HPy arg) | cpy_PyObject *(cpy_PyObject *self, cpy_PyObject *arg)";

    #[test]
    fn the_committed_table_parses() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../hpy-sys/hpyfunc.txt"
        ))
        .unwrap();
        let sigs = parse(&text).unwrap();
        assert_eq!(sigs.len(), 39);
        let richcmp = sigs.iter().find(|s| s.name == "RICHCMPFUNC").unwrap();
        let op = richcmp.field("arg2");
        assert_eq!(
            (op.ty.as_str(), op.stored.as_str()),
            ("int", "HPy_RichCmpOp")
        );
        let noargs = sigs.iter().find(|s| s.name == "NOARGS").unwrap();
        assert_eq!(
            noargs.stored().len(),
            1,
            "the ignored parameter is not stored"
        );
    }

    #[test]
    fn a_regular_line() {
        let sigs = parse(&format!("{O} | obj(self), obj(arg) -> obj")).unwrap();
        let Dispatch::Regular { args, result } = &sigs[0].dispatch else {
            panic!()
        };
        assert_eq!(args.len(), 2);
        assert_eq!(*result, Res::Obj);
        assert_eq!(sigs[0].typedef(), "HPyFunc_o");
    }

    #[test]
    fn inconsistent_lines_are_refused() {
        for (line, why) in [
            (format!("{O} | obj(self) -> obj"), "conversions for 2"),
            (
                format!("{O} | obj(self), obj(nope) -> obj"),
                "no trampoline parameter",
            ),
            (
                format!("{O} | obj(self), val(arg) -> obj"),
                "passes no object",
            ),
            (
                format!("{O} | obj(self), cook(arg) -> obj"),
                "unknown argument conversion",
            ),
            (format!("{O} | obj(self), obj(arg) -> val"), "does not fit"),
            (format!("{O} | obj(self), obj(arg)"), "ARGS -> RESULT"),
            ("O = x | - | - | -".to_string(), "bad number"),
            (format!("{O} | hand\n{O} | hand"), "declared twice"),
        ] {
            let err = parse(&line).unwrap_err();
            assert!(err.contains(why), "{line}: {err}");
        }
    }
}
