#pragma once
/// libpq, loaded when a PostgreSQL database is first opened rather than linked: a bot on
/// SQLite never maps it and the libraries it brings (TLS, Kerberos, LDAP: about 3 MB of
/// resident memory). Include this instead of <libpq-fe.h>; the PQ functions used by the
/// stores and check-config then call through the loaded table, with the same names.

#include <libpq-fe.h>

namespace tpmbot::pq {

/// The libpq functions the bot calls.
struct functions {
    decltype(&::PQclear) clear;
    decltype(&::PQcmdStatus) cmdStatus;
    decltype(&::PQcmdTuples) cmdTuples;
    decltype(&::PQconnectdb) connectdb;
    decltype(&::PQconnectdbParams) connectdbParams;
    decltype(&::PQerrorMessage) errorMessage;
    decltype(&::PQexec) exec;
    decltype(&::PQexecParams) execParams;
    decltype(&::PQexecPrepared) execPrepared;
    decltype(&::PQfinish) finish;
    decltype(&::PQfname) fname;
    decltype(&::PQgetisnull) getisnull;
    decltype(&::PQgetlength) getlength;
    decltype(&::PQgetvalue) getvalue;
    decltype(&::PQntuples) ntuples;
    decltype(&::PQprepare) prepare;
    decltype(&::PQreset) reset;
    decltype(&::PQresultErrorField) resultErrorField;
    decltype(&::PQresultErrorMessage) resultErrorMessage;
    decltype(&::PQresultStatus) resultStatus;
    decltype(&::PQsetNoticeProcessor) setNoticeProcessor;
    decltype(&::PQstatus) status;
    decltype(&::PQtransactionStatus) transactionStatus;
};

/// The table, loading libpq (libpq.so.5, or the one named by `use_libpq`) on the first call; throws
/// std::runtime_error saying what is missing when it cannot be loaded. Thread-safe.
const functions& api();

} // namespace tpmbot::pq

// The names the code uses, through the table (after <libpq-fe.h>, whose declarations they
// would otherwise rename).
#define PQclear ::tpmbot::pq::api().clear
#define PQcmdStatus ::tpmbot::pq::api().cmdStatus
#define PQcmdTuples ::tpmbot::pq::api().cmdTuples
#define PQconnectdb ::tpmbot::pq::api().connectdb
#define PQconnectdbParams ::tpmbot::pq::api().connectdbParams
#define PQerrorMessage ::tpmbot::pq::api().errorMessage
#define PQexec ::tpmbot::pq::api().exec
#define PQexecParams ::tpmbot::pq::api().execParams
#define PQexecPrepared ::tpmbot::pq::api().execPrepared
#define PQfinish ::tpmbot::pq::api().finish
#define PQfname ::tpmbot::pq::api().fname
#define PQgetisnull ::tpmbot::pq::api().getisnull
#define PQgetlength ::tpmbot::pq::api().getlength
#define PQgetvalue ::tpmbot::pq::api().getvalue
#define PQntuples ::tpmbot::pq::api().ntuples
#define PQprepare ::tpmbot::pq::api().prepare
#define PQreset ::tpmbot::pq::api().reset
#define PQresultErrorField ::tpmbot::pq::api().resultErrorField
#define PQresultErrorMessage ::tpmbot::pq::api().resultErrorMessage
#define PQresultStatus ::tpmbot::pq::api().resultStatus
#define PQsetNoticeProcessor ::tpmbot::pq::api().setNoticeProcessor
#define PQstatus ::tpmbot::pq::api().status
#define PQtransactionStatus ::tpmbot::pq::api().transactionStatus
