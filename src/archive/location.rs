//! Where an archive lives: a directory (sled, the default) or a PostgreSQL
//! database, named by the one `--archive` value every command takes.

use std::path::{Path, PathBuf};

use super::postgres::PostgresUrl;

/// An archive's place, as given with `--archive` or `PALIMPSEST_ARCHIVE`.
#[derive(Clone, Debug)]
pub enum Location {
    /// A directory holding a sled database and its packs.
    Dir(PathBuf),
    /// A PostgreSQL database (`postgres://USER@HOST/DB`).
    Postgres(Box<PostgresUrl>),
}

impl Location {
    /// Reads `--archive`: a `postgres://` or `postgresql://` URL, or else a
    /// directory.
    pub fn parse(text: &str) -> Result<Self, String> {
        if PostgresUrl::is_postgres(text) {
            Ok(Location::Postgres(Box::new(text.parse()?)))
        } else {
            Ok(Location::Dir(PathBuf::from(text)))
        }
    }

    /// The directory, for what only a directory archive does.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Location::Dir(dir) => Some(dir),
            Location::Postgres(_) => None,
        }
    }

    /// The directory, or an error naming `what` cannot be done elsewhere.
    pub fn require_dir(&self, what: &str) -> Result<&Path, String> {
        self.dir().ok_or_else(|| {
            format!("{what} works on an archive directory; {self} is a PostgreSQL archive")
        })
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Dir(dir) => write!(f, "{}", dir.display()),
            Location::Postgres(url) => write!(f, "{url}"),
        }
    }
}

impl From<&Path> for Location {
    fn from(dir: &Path) -> Self {
        Location::Dir(dir.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_archive_is_a_directory_unless_it_is_a_postgres_url() {
        assert!(matches!(Location::parse("archive"), Ok(Location::Dir(_))));
        assert!(matches!(
            Location::parse("./postgres:/x"),
            Ok(Location::Dir(_))
        ));
        let pg = Location::parse("postgresql://crawler:secret@127.0.0.1:5433/news").unwrap();
        assert!(matches!(pg, Location::Postgres(_)));
        // The password is never printed.
        assert_eq!(pg.to_string(), "postgres://crawler@127.0.0.1:5433/news");
        assert!(Location::parse("postgres://host/db?sslmode=bogus").is_err());
        // A URL with a slash lost is refused, not made a directory.
        assert!(Location::parse("postgres:/host/db").is_err());
        assert!(Location::parse("postgresql:db").is_err());
    }
}
