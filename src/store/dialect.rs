//! What differs between the state database's SQL dialects (SQLite, PostgreSQL, MySQL and
//! MariaDB), declared once: how bind parameters are written, how an insert skips or
//! updates an existing key, how a JSON array becomes rows, how a read locks its rows.
//! Statements are written once with `$1, $2, ...` numbered in order of appearance, each
//! bound once, and [`Dialect::sql`] turns them into what the database takes.

use std::borrow::Cow;

use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
    /// MySQL 8 and MariaDB 10.6+ (InnoDB, `JSON_TABLE`).
    MySql,
}

/// What an insert does with a row whose key exists.
pub struct Conflict {
    /// The key columns, as `ON CONFLICT (...)` names them.
    pub key: &'static str,
    /// Columns that take the new row's value; none: the existing row stays as it is.
    pub update: &'static [&'static str],
}

impl Dialect {
    /// By the URL's scheme, as sqlx picks its driver; anything else is SQLite.
    pub fn of_url(url: &str) -> Dialect {
        let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
        match scheme.as_str() {
            "postgres" | "postgresql" => Dialect::Postgres,
            "mysql" | "mariadb" => Dialect::MySql,
            _ => Dialect::Sqlite,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
        }
    }

    /// Whether parameters are numbered (`$n`, PostgreSQL) rather than positional (`?`:
    /// bound strictly in order of appearance). On SQLite `?` also saves sqlx's look-up of
    /// every numbered parameter by name, a linear scan (n² for a statement of n).
    pub fn numbered(self) -> bool {
        self == Dialect::Postgres
    }

    /// The `n`th bind parameter (from 1).
    pub fn param(self, n: usize) -> String {
        if self.numbered() {
            format!("${n}")
        } else {
            "?".to_string()
        }
    }

    /// `n` bind parameters from the `first`, for an `IN (…)` list.
    pub fn params(self, first: usize, n: usize) -> Vec<String> {
        (0..n).map(|i| self.param(first + i)).collect()
    }

    /// A statement written with `$1, $2, ...` for this dialect: unchanged where parameters
    /// are numbered, each `$n` a `?` elsewhere. The numbers must appear in order, each
    /// once (checked in debug builds), so that the binds line up on every dialect.
    pub fn sql(self, text: &str) -> Cow<'_, str> {
        #[cfg(debug_assertions)]
        {
            let numbers = placeholders(text);
            assert!(numbers.iter().enumerate().all(|(i, n)| *n == i + 1), "parameters out of order {numbers:?}: {text}");
        }
        if self.numbered() || !text.contains('$') {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                    chars.next();
                }
                out.push('?');
            } else {
                out.push(c);
            }
        }
        Cow::Owned(out)
    }

    /// `INSERT INTO <into> <rows>` (`rows`: `VALUES ...` or a `SELECT`) doing `conflict`
    /// with rows whose key exists. MySQL's `INSERT IGNORE` also counts only the rows
    /// inserted, as `DO NOTHING` does (an `ON DUPLICATE KEY UPDATE` that changes nothing
    /// counts the row as affected under sqlx's CLIENT_FOUND_ROWS).
    pub fn insert(self, into: &str, rows: &str, conflict: &Conflict) -> String {
        match (self, conflict.update) {
            (Dialect::MySql, []) => format!("INSERT IGNORE INTO {into} {rows}"),
            (Dialect::MySql, update) => {
                let set: Vec<String> = update.iter().map(|c| format!("{c} = VALUES({c})")).collect();
                format!("INSERT INTO {into} {rows} ON DUPLICATE KEY UPDATE {}", set.join(", "))
            }
            (_, []) => format!("INSERT INTO {into} {rows} ON CONFLICT ({}) DO NOTHING", conflict.key),
            (_, update) => {
                let set: Vec<String> = update.iter().map(|c| format!("{c} = excluded.{c}")).collect();
                format!("INSERT INTO {into} {rows} ON CONFLICT ({}) DO UPDATE SET {}", conflict.key, set.join(", "))
            }
        }
    }

    /// The elements of the JSON array of strings `array` as rows of a `FROM` list, text
    /// in column `value` of `alias`. MySQL's `JSON_TABLE` names the column's type: key
    /// width and collation as the key columns have them (`migrations/mysql`).
    pub fn json_strings(self, array: &str, alias: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_each({array}) AS {alias}"),
            Dialect::Postgres => format!("json_array_elements_text({array}::json) AS {alias}"),
            Dialect::MySql => format!(
                "JSON_TABLE({array}, '$[*]' COLUMNS (value VARCHAR({REF_CHARS}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin \
                 PATH '$')) AS {alias}"
            ),
        }
    }

    /// Appended to a `SELECT` whose rows the transaction goes on to write from what it
    /// read: locks them until commit. SQLite has no row locks (a writing transaction
    /// holds the whole database).
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres | Dialect::MySql => " FOR UPDATE",
        }
    }
}

/// Characters of an entity ref column on MySQL (`migrations/mysql`).
pub const REF_CHARS: usize = 512;

/// A text column's value. MySQL reports its TEXT types as BLOBs, which sqlx's Any driver
/// hands over as bytes, not as text.
pub fn text(row: &AnyRow, i: usize) -> Option<String> {
    match row.try_get::<Option<String>, _>(i) {
        Ok(s) => s,
        Err(_) => row.get::<Option<Vec<u8>>, _>(i).map(|b| String::from_utf8_lossy(&b).into_owned()),
    }
}

/// The numbers of a statement's `$n` placeholders, in order of appearance.
#[cfg(debug_assertions)]
fn placeholders(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let digits = bytes[i + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
            if digits > 0 {
                out.push(text[i + 1..i + 1 + digits].parse().unwrap());
            }
            i += digits;
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_take_each_dialects_parameters() {
        let s = "SELECT '$[*]', $1 FROM t WHERE a = $2 AND b IN ($3, $4)";
        assert_eq!(Dialect::Postgres.sql(s), s);
        assert_eq!(Dialect::MySql.sql(s), "SELECT '$[*]', ? FROM t WHERE a = ? AND b IN (?, ?)");
        assert_eq!(Dialect::Sqlite.sql(s), Dialect::MySql.sql(s));
        assert_eq!(Dialect::MySql.params(3, 2), ["?", "?"]);
        assert_eq!(Dialect::Postgres.params(3, 2), ["$3", "$4"]);
    }

    #[test]
    #[should_panic(expected = "out of order")]
    fn a_repeated_parameter_is_refused() {
        Dialect::Sqlite.sql("UPDATE t SET a = $1 WHERE b = $1");
    }

    #[test]
    fn inserts_skip_or_update_existing_keys() {
        let nothing = Conflict { key: "k", update: &[] };
        let update = Conflict { key: "k", update: &["a", "b"] };
        assert_eq!(Dialect::MySql.insert("t (k, a)", "VALUES (?, ?)", &nothing), "INSERT IGNORE INTO t (k, a) VALUES (?, ?)");
        assert_eq!(
            Dialect::MySql.insert("t", "VALUES (?)", &update),
            "INSERT INTO t VALUES (?) ON DUPLICATE KEY UPDATE a = VALUES(a), b = VALUES(b)"
        );
        assert_eq!(Dialect::Sqlite.insert("t", "VALUES (?)", &nothing), "INSERT INTO t VALUES (?) ON CONFLICT (k) DO NOTHING");
        assert_eq!(
            Dialect::Postgres.insert("t", "VALUES ($1)", &update),
            "INSERT INTO t VALUES ($1) ON CONFLICT (k) DO UPDATE SET a = excluded.a, b = excluded.b"
        );
    }

    #[test]
    fn urls_pick_the_dialect() {
        for (url, d) in [
            ("postgres://u@h/db", Dialect::Postgres),
            ("postgresql://h/db", Dialect::Postgres),
            ("mysql://root@127.0.0.1:3306/test", Dialect::MySql),
            ("mariadb://h/db", Dialect::MySql),
            ("sqlite::memory:", Dialect::Sqlite),
            ("sqlite:///tmp/x.sqlite", Dialect::Sqlite),
        ] {
            assert_eq!(Dialect::of_url(url), d, "{url}");
        }
    }
}
