//! Reads the one declaration of the HPy context, `hpy-sys/include/hpy/context.h`.
//!
//! The header keeps a deliberately simple grammar (one member per line between
//! the BEGIN/END marker comments) so that this reader needs no C parser.

/// One member of `struct _HPyContext_s`, in declaration order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    /// A data field (`name`, `_private`, `abi_version`) or a handle constant (`h_None`, ...).
    Field { ty: String, name: String },
    /// A function pointer `ret (*name)(params)`; `params` includes the leading ctx.
    Func {
        ret: String,
        name: String,
        params: Vec<Param>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The declaration as written, e.g. `const HPy items[]`.
    pub decl: String,
    /// The parameter name, e.g. `items`.
    pub name: String,
}

pub fn parse(header: &str) -> Result<Vec<Member>, String> {
    let begin = header
        .find("BEGIN CONTEXT MEMBERS")
        .ok_or("context.h: missing BEGIN CONTEXT MEMBERS marker")?;
    let end = header
        .find("END CONTEXT MEMBERS")
        .ok_or("context.h: missing END CONTEXT MEMBERS marker")?;
    let body = &header[begin..end];
    let mut members = Vec::new();
    for raw in body.lines().skip(1) {
        let line = raw.trim();
        if line.is_empty() || line.starts_with("/*") || line.starts_with("//") {
            continue;
        }
        let line = line
            .strip_suffix(';')
            .ok_or_else(|| format!("context.h: member line does not end with ';': {line}"))?;
        members.push(parse_member(line)?);
    }
    Ok(members)
}

fn parse_member(line: &str) -> Result<Member, String> {
    if let Some(star) = line.find("(*") {
        let ret = line[..star].trim().to_string();
        let rest = &line[star + 2..];
        let close = rest
            .find(')')
            .ok_or_else(|| format!("bad member: {line}"))?;
        let name = rest[..close].trim().to_string();
        let params_text = rest[close + 1..].trim();
        let params_text = params_text
            .strip_prefix('(')
            .and_then(|p| p.strip_suffix(')'))
            .ok_or_else(|| format!("bad parameter list: {line}"))?;
        let params = params_text
            .split(',')
            .map(|p| parse_param(p.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Member::Func { ret, name, params })
    } else {
        let split = line
            .rfind([' ', '*'])
            .ok_or_else(|| format!("bad field: {line}"))?;
        Ok(Member::Field {
            ty: line[..=split].trim().to_string(),
            name: line[split + 1..].trim().to_string(),
        })
    }
}

fn parse_param(decl: &str) -> Result<Param, String> {
    let core = decl.trim_end_matches("[]").trim_end();
    let start = core
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map(|i| i + 1)
        .unwrap_or(0);
    let name = &core[start..];
    if name.is_empty() || start == 0 {
        return Err(format!("parameter without a name: {decl}"));
    }
    Ok(Param {
        decl: decl.to_string(),
        name: name.to_string(),
    })
}
