#pragma once
/// The PostgreSQL schema: the tables, columns and indexes of the SQLite schema of the same
/// version (schema.hpp), as an ordered list of migrations whose version is kept in the table
/// `tpmbot_schema`.

#include <cstdint>
#include <libpq-fe.h>
#include <string>
#include <string_view>

namespace tpmbot::pg_schema {

/// The schema version this build creates and understands: the SQLite schema's latest, so a
/// version number names the same tables and columns in both engines.
int latest_version();

/// A 64-bit advisory lock key for `purpose` in `schema`: each schema of a database migrates,
/// and writes, under locks of its own.
std::int64_t lock_key(std::string_view purpose, std::string_view schema);

/// Brings the database on `conn` (outside any transaction) to `latest_version()` in one
/// transaction that first takes an advisory lock, so several processes starting at once
/// migrate once: the others wait, then find the work done. A database already at the latest
/// version is left untouched; one newer than this build knows is refused. Tables are created
/// in the first schema of the connection's search_path. Throws std::runtime_error naming
/// `name` (the database, without its password).
void migrate(PGconn* conn, const std::string& name);

} // namespace tpmbot::pg_schema
