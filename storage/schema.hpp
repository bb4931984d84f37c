#pragma once
/// The SQLite schema as an ordered list of migrations, versioned with PRAGMA user_version.

#include <SQLiteCpp/Database.h>
#include <string>

namespace tpmbot::schema {

/// The schema version this build creates and understands.
int latest_version();

/// The database's PRAGMA user_version.
int current_version(SQLite::Database& db);

/// Brings `db` to `latest_version()`, one transaction per migration. A database already at
/// the latest version is left untouched; one newer than this build knows is refused with a
/// std::runtime_error naming `path`.
void migrate(SQLite::Database& db, const std::string& path);

} // namespace tpmbot::schema
