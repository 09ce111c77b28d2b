#include "daemon/state_store.hpp"

#include <sqlite3.h>

#include <string_view>
#include <utility>

namespace shoal::daemon {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS torrents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  info_hash TEXT NOT NULL UNIQUE,
  torrent_bytes BLOB NOT NULL,
  magnet TEXT NOT NULL,
  save_path TEXT NOT NULL,
  paused INTEGER NOT NULL,
  queue_position INTEGER NOT NULL,
  added_date INTEGER NOT NULL,
  done_date INTEGER NOT NULL,
  download_limit INTEGER NOT NULL,
  upload_limit INTEGER NOT NULL,
  seed_ratio REAL,
  seed_idle_minutes INTEGER,
  peer_limit INTEGER NOT NULL,
  wanted TEXT NOT NULL,
  priorities TEXT NOT NULL,
  file_paths TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS resume (
  torrent_id INTEGER PRIMARY KEY REFERENCES torrents(id) ON DELETE CASCADE,
  data BLOB NOT NULL
);
)sql";

// One prepared statement, finalized on every path.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  void bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind_blob(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind(int i, std::optional<double> v) {
    if (v)
      sqlite3_bind_double(stmt_, i, *v);
    else
      sqlite3_bind_null(stmt_, i);
  }
  void bind(int i, std::optional<std::int64_t> v) {
    if (v)
      sqlite3_bind_int64(stmt_, i, *v);
    else
      sqlite3_bind_null(stmt_, i);
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }

  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string text(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
  }
  std::string error() const { return sqlite3_errmsg(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

// Runs one statement that returns no rows.
Expected<void, std::string> run(Statement& s) {
  if (!s.ok()) return unexpected("cannot prepare: " + s.error());
  if (s.step() != SQLITE_DONE) return unexpected(s.error());
  return {};
}

// A transaction that rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {
    ok_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  ~Transaction() {
    if (ok_ && !committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  bool ok() const { return ok_; }
  Expected<void, std::string> commit() {
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
      return unexpected(std::string("commit: ") + sqlite3_errmsg(db_));
    committed_ = true;
    return {};
  }

 private:
  sqlite3* db_;
  bool ok_ = false;
  bool committed_ = false;
};

}  // namespace

std::string encode_flags(const std::vector<bool>& flags) {
  std::string s;
  s.reserve(flags.size());
  for (bool f : flags)
    s.push_back(f ? '1' : '0');
  return s;
}

std::vector<bool> decode_flags(const std::string& text) {
  std::vector<bool> flags;
  flags.reserve(text.size());
  for (char c : text) {
    if (c != '0' && c != '1') return {};
    flags.push_back(c == '1');
  }
  return flags;
}

std::string encode_priorities(const std::vector<int>& priorities) {
  std::string s;
  s.reserve(priorities.size());
  for (int p : priorities)
    s.push_back(p < 0 ? 'l' : p > 0 ? 'h' : 'n');
  return s;
}

// "index<TAB>path<LF>" per renamed file: paths hold no control characters (the rename refuses them).
std::string encode_file_paths(const std::map<int, std::string>& paths) {
  std::string s;
  for (const auto& [index, path] : paths)
    s += std::to_string(index) + '\t' + path + '\n';
  return s;
}

std::map<int, std::string> decode_file_paths(const std::string& text) {
  std::map<int, std::string> out;
  std::size_t begin = 0;
  while (begin < text.size()) {
    auto end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    auto line = std::string_view(text).substr(begin, end - begin);
    begin = end + 1;
    auto tab = line.find('\t');
    if (tab == std::string_view::npos || tab == 0 || tab > 9) continue;
    int index = 0;
    bool digits = true;
    for (char c : line.substr(0, tab)) {
      if (c < '0' || c > '9') digits = false;
      index = index * 10 + (c - '0');
    }
    if (digits) out[index] = std::string(line.substr(tab + 1));  // the engine checks the path before use
  }
  return out;
}

std::vector<int> decode_priorities(const std::string& text) {
  std::vector<int> out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == 'l')
      out.push_back(-1);
    else if (c == 'n')
      out.push_back(0);
    else if (c == 'h')
      out.push_back(1);
    else
      return {};
  }
  return out;
}

Expected<std::unique_ptr<StateStore>, std::string> StateStore::open(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return unexpected(file.string() + ": " + why);
  }
  std::unique_ptr<StateStore> store(new StateStore(db));
  // WAL: readers never block the writer and a crash leaves the last committed state. synchronous=FULL: a
  // commit is on disk before the RPC answer that reports it.
  sqlite3_busy_timeout(db, 5000);
  for (const char* sql :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON", kSchema}) {
    if (auto r = store->exec(sql); !r) return unexpected(file.string() + ": " + r.error());
  }
  // Stores written before renames were kept have no file_paths column: add it (empty: nothing renamed).
  if (!store->has_column("torrents", "file_paths")) {
    if (auto r = store->exec("ALTER TABLE torrents ADD COLUMN file_paths TEXT NOT NULL DEFAULT ''"); !r)
      return unexpected(file.string() + ": " + r.error());
  }
  return store;
}

StateStore::~StateStore() {
  sqlite3_close(db_);
}

bool StateStore::has_column(const char* table, const char* column) {
  Statement s(db_, (std::string("PRAGMA table_info(") + table + ")").c_str());
  while (s.ok() && s.step() == SQLITE_ROW) {
    if (s.text(1) == column) return true;
  }
  return false;
}

Expected<void, std::string> StateStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : "unknown error";
    sqlite3_free(err);
    return unexpected(why);
  }
  return {};
}

Expected<std::vector<StoredTorrent>, std::string> StateStore::torrents() {
  Statement s(
      db_,
      "SELECT id, info_hash, torrent_bytes, magnet, save_path, paused, queue_position, added_date, "
      "done_date, download_limit, upload_limit, seed_ratio, seed_idle_minutes, peer_limit, wanted, "
      "priorities, resume.data, file_paths FROM torrents LEFT JOIN resume ON resume.torrent_id = torrents.id "
      "ORDER BY queue_position, id");
  if (!s.ok()) return unexpected(s.error());
  std::vector<StoredTorrent> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    StoredTorrent t;
    t.id = s.integer(0);
    t.info_hash = s.text(1);
    t.torrent_bytes = s.text(2);
    t.magnet = s.text(3);
    t.save_path = s.text(4);
    t.paused = s.integer(5) != 0;
    t.queue_position = s.integer(6);
    t.added_date = s.integer(7);
    t.done_date = s.integer(8);
    t.options.download_limit = s.integer(9);
    t.options.upload_limit = s.integer(10);
    if (!s.is_null(11)) t.options.seed_ratio = s.real(11);
    if (!s.is_null(12)) t.options.seed_idle_minutes = s.integer(12);
    t.options.peer_limit = static_cast<int>(s.integer(13));
    t.options.wanted = decode_flags(s.text(14));
    t.options.priorities = decode_priorities(s.text(15));
    t.resume_data = s.text(16);
    t.options.file_paths = decode_file_paths(s.text(17));
    out.push_back(std::move(t));
  }
  if (rc != SQLITE_DONE) return unexpected(s.error());
  return out;
}

Expected<StateStore::Added, std::string> StateStore::add(StoredTorrent t) {
  Transaction tx(db_);
  if (!tx.ok()) return unexpected(std::string("begin: ") + sqlite3_errmsg(db_));
  std::int64_t position = 0;
  {
    Statement q(db_, "SELECT COALESCE(MAX(queue_position) + 1, 0) FROM torrents");
    if (!q.ok() || q.step() != SQLITE_ROW) return unexpected(q.error());
    position = q.integer(0);
  }
  Statement s(
      db_,
      "INSERT INTO torrents (info_hash, torrent_bytes, magnet, save_path, paused, queue_position, "
      "added_date, done_date, download_limit, upload_limit, seed_ratio, seed_idle_minutes, peer_limit, "
      "wanted, priorities, file_paths) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
      "?15, "
      "?16)");
  s.bind(1, t.info_hash);
  s.bind_blob(2, t.torrent_bytes);
  s.bind(3, t.magnet);
  s.bind(4, t.save_path);
  s.bind(5, std::int64_t{t.paused});
  s.bind(6, position);
  s.bind(7, t.added_date);
  s.bind(8, t.done_date);
  s.bind(9, t.options.download_limit);
  s.bind(10, t.options.upload_limit);
  s.bind(11, t.options.seed_ratio);
  s.bind(12, t.options.seed_idle_minutes);
  s.bind(13, std::int64_t{t.options.peer_limit});
  s.bind(14, encode_flags(t.options.wanted));
  s.bind(15, encode_priorities(t.options.priorities));
  s.bind(16, encode_file_paths(t.options.file_paths));
  if (auto r = run(s); !r) return unexpected(r.error());
  std::int64_t id = sqlite3_last_insert_rowid(db_);
  if (auto r = tx.commit(); !r) return unexpected(r.error());
  return Added{id, position};
}

Expected<void, std::string> StateStore::remove(std::int64_t id) {
  Statement s(db_, "DELETE FROM torrents WHERE id = ?1");
  s.bind(1, id);
  return run(s);
}

Expected<void, std::string> StateStore::set_resume_data(
    const std::vector<std::pair<std::int64_t, std::string>>& data) {
  if (data.empty()) return {};
  Transaction tx(db_);
  if (!tx.ok()) return unexpected(std::string("begin: ") + sqlite3_errmsg(db_));
  for (const auto& [id, bytes] : data) {
    // A torrent removed meanwhile has no row to refer to: nothing to keep for it.
    Statement s(db_,
                "INSERT INTO resume (torrent_id, data) SELECT ?1, ?2 WHERE EXISTS "
                "(SELECT 1 FROM torrents WHERE id = ?1) "
                "ON CONFLICT(torrent_id) DO UPDATE SET data = excluded.data");
    s.bind(1, id);
    s.bind_blob(2, bytes);
    if (auto r = run(s); !r) return r;
  }
  return tx.commit();
}

Expected<void, std::string> StateStore::set_paused(std::int64_t id, bool paused) {
  Statement s(db_, "UPDATE torrents SET paused = ?2 WHERE id = ?1");
  s.bind(1, id);
  s.bind(2, std::int64_t{paused});
  return run(s);
}

Expected<void, std::string> StateStore::set_options(std::int64_t id, const TorrentOptions& o) {
  Statement s(
      db_,
      "UPDATE torrents SET download_limit = ?2, upload_limit = ?3, seed_ratio = ?4, "
      "seed_idle_minutes = ?5, peer_limit = ?6, wanted = ?7, priorities = ?8, file_paths = ?9 WHERE id = ?1");
  s.bind(1, id);
  s.bind(2, o.download_limit);
  s.bind(3, o.upload_limit);
  s.bind(4, o.seed_ratio);
  s.bind(5, o.seed_idle_minutes);
  s.bind(6, std::int64_t{o.peer_limit});
  s.bind(7, encode_flags(o.wanted));
  s.bind(8, encode_priorities(o.priorities));
  s.bind(9, encode_file_paths(o.file_paths));
  return run(s);
}

Expected<void, std::string> StateStore::set_save_path(std::int64_t id, const std::string& save_path) {
  Statement s(db_, "UPDATE torrents SET save_path = ?2 WHERE id = ?1");
  s.bind(1, id);
  s.bind(2, save_path);
  return run(s);
}

Expected<void, std::string> StateStore::set_torrent_bytes(std::int64_t id, const std::string& torrent_bytes) {
  Statement s(db_, "UPDATE torrents SET torrent_bytes = ?2 WHERE id = ?1");
  s.bind(1, id);
  s.bind_blob(2, torrent_bytes);
  return run(s);
}

Expected<void, std::string> StateStore::set_done_date(std::int64_t id, std::int64_t done_date) {
  Statement s(db_, "UPDATE torrents SET done_date = ?2 WHERE id = ?1");
  s.bind(1, id);
  s.bind(2, done_date);
  return run(s);
}

Expected<void, std::string> StateStore::set_queue_order(const std::vector<std::int64_t>& ids) {
  Transaction tx(db_);
  if (!tx.ok()) return unexpected(std::string("begin: ") + sqlite3_errmsg(db_));
  // Listed ids take 0..n-1; the others follow in their old order.
  {
    Statement shift(db_, "UPDATE torrents SET queue_position = queue_position + ?1");
    shift.bind(1, static_cast<std::int64_t>(ids.size()) + 1'000'000'000);
    if (auto r = run(shift); !r) return r;
  }
  std::int64_t position = 0;
  for (auto id : ids) {
    Statement s(db_, "UPDATE torrents SET queue_position = ?2 WHERE id = ?1");
    s.bind(1, id);
    s.bind(2, position++);
    if (auto r = run(s); !r) return r;
  }
  // Renumber everything densely, keeping the order just made.
  std::vector<std::int64_t> order;
  {
    Statement q(db_, "SELECT id FROM torrents ORDER BY queue_position, id");
    while (q.step() == SQLITE_ROW)
      order.push_back(q.integer(0));
  }
  position = 0;
  for (auto id : order) {
    Statement s(db_, "UPDATE torrents SET queue_position = ?2 WHERE id = ?1");
    s.bind(1, id);
    s.bind(2, position++);
    if (auto r = run(s); !r) return r;
  }
  return tx.commit();
}

Expected<std::map<std::string, std::string>, std::string> StateStore::settings() {
  Statement s(db_, "SELECT name, value FROM settings");
  if (!s.ok()) return unexpected(s.error());
  std::map<std::string, std::string> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW)
    out[s.text(0)] = s.text(1);
  if (rc != SQLITE_DONE) return unexpected(s.error());
  return out;
}

Expected<void, std::string> StateStore::set_settings(const std::map<std::string, std::string>& values) {
  Transaction tx(db_);
  if (!tx.ok()) return unexpected(std::string("begin: ") + sqlite3_errmsg(db_));
  for (const auto& [name, value] : values) {
    Statement s(db_,
                "INSERT INTO settings (name, value) VALUES (?1, ?2) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value");
    s.bind(1, name);
    s.bind(2, value);
    if (auto r = run(s); !r) return r;
  }
  return tx.commit();
}

}  // namespace shoal::daemon
