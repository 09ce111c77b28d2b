// The public shoal::Session and shoal::TorrentHandle: each call hops onto the session's network thread.
#include "shoal/session.hpp"

#include "session/session_core.hpp"

namespace shoal {

const char* to_string(TorrentState state) noexcept {
  switch (state) {
    case TorrentState::fetching_metadata:
      return "metadata";
    case TorrentState::queued:
      return "queued";
    case TorrentState::checking:
      return "checking";
    case TorrentState::downloading:
      return "downloading";
    case TorrentState::seeding:
      return "seeding";
    case TorrentState::paused:
      return "paused";
    case TorrentState::stopped:
      return "stopped";
    case TorrentState::error:
      return "error";
  }
  return "unknown";
}

const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::none:
      return "none";
    case ErrorCode::invalid_torrent:
      return "invalid torrent";
    case ErrorCode::invalid_magnet:
      return "invalid magnet link";
    case ErrorCode::metadata_not_found:
      return "metadata not found";
    case ErrorCode::no_dht_nodes:
      return "no DHT nodes";
    case ErrorCode::file_error:
      return "file error";
    case ErrorCode::file_deleted:
      return "file deleted";
    case ErrorCode::duplicate_torrent:
      return "duplicate torrent";
    case ErrorCode::listen_failed:
      return "listen failed";
  }
  return "unknown";
}

Session::Session(SessionSettings settings)
    : core_(std::make_shared<detail::SessionCore>(std::move(settings))) {}

Session::~Session() {
  core_->shutdown(std::chrono::seconds(5));
}

Expected<TorrentHandle, std::string> Session::add_torrent(AddTorrentParams params) {
  auto added = core_->call([&] { return core_->add(std::move(params)); });
  if (!added) return unexpected(added.error());
  return TorrentHandle(core_, *added);
}

void Session::remove_torrent(const TorrentHandle& handle, RemoveMode mode) {
  core_->call([&] { core_->remove(handle.info_hash(), mode); });
}

std::vector<TorrentHandle> Session::torrents() const {
  auto hashes = core_->call([&] { return core_->list(); });
  std::vector<TorrentHandle> out;
  for (auto& h : hashes)
    out.emplace_back(core_, std::move(h));
  return out;
}

TorrentHandle Session::find_torrent(const std::string& info_hash) const {
  bool found = core_->call([&] { return core_->has(info_hash); });
  return found ? TorrentHandle(core_, info_hash) : TorrentHandle();
}

void Session::apply_settings(const SessionSettings& settings) {
  core_->call([&] { core_->apply_settings(settings); });
}

SessionSettings Session::settings() const {
  return core_->call([&] { return core_->settings(); });
}

void Session::pause() {
  core_->call([&] { core_->pause_all(); });
}

void Session::resume() {
  core_->call([&] { core_->resume_all(); });
}

void Session::save_state() {
  core_->call([&] { core_->save_state(); });
}

SessionStats Session::stats() const {
  return core_->call([&] { return core_->stats(); });
}

std::vector<Event> Session::pop_events() {
  return core_->pop_events();
}

bool Session::wait_for_events(std::chrono::milliseconds timeout) {
  return core_->wait_for_events(timeout);
}

void Session::set_wakeup(std::function<void()> wakeup) {
  core_->set_wakeup(std::move(wakeup));
}

void Session::shutdown(std::chrono::milliseconds timeout) {
  core_->shutdown(timeout);
}

// ---------------------------------------------------------------------------------------------------------------

std::vector<TorrentStatus> Session::statuses() const {
  return core_->call([&] {
    std::vector<TorrentStatus> out;
    for (const auto& hex : core_->list())
      out.push_back(core_->status(hex));
    return out;
  });
}

std::vector<TorrentDetails> Session::details(const std::vector<std::string>& info_hashes,
                                             const DetailsQuery& query) const {
  return core_->call([&] {
    std::vector<TorrentDetails> out;
    out.reserve(info_hashes.size());
    for (const auto& hex : info_hashes)
      out.push_back(core_->details(hex, query));
    return out;
  });
}

void Session::set_queue_order(const std::vector<std::string>& info_hashes) {
  core_->call([&] { core_->set_queue_order(info_hashes); });
}

// ---------------------------------------------------------------------------------------------------------------

bool TorrentHandle::valid() const {
  auto core = core_.lock();
  return core && core->call([&] { return core->has(info_hash_); });
}

TorrentStatus TorrentHandle::status() const {
  auto core = core_.lock();
  if (!core) return {};
  return core->call([&] { return core->status(info_hash_); });
}

void TorrentHandle::pause() {
  if (auto core = core_.lock()) core->call([&] { core->pause(info_hash_); });
}

void TorrentHandle::resume() {
  if (auto core = core_.lock()) core->call([&] { core->resume(info_hash_); });
}

void TorrentHandle::force_recheck() {
  if (auto core = core_.lock()) core->call([&] { core->force_recheck(info_hash_); });
}

void TorrentHandle::force_reannounce() {
  if (auto core = core_.lock()) core->call([&] { core->force_reannounce(info_hash_); });
}

bool TorrentHandle::add_peer(const std::string& endpoint) {
  auto core = core_.lock();
  return core && core->call([&] { return core->add_peer(info_hash_, endpoint); });
}

void TorrentHandle::set_file_priority(int file_index, int priority) {
  if (auto core = core_.lock())
    core->call([&] { core->set_file_priority(info_hash_, file_index, priority); });
}

void TorrentHandle::set_max_connections(int max_connections) {
  if (auto core = core_.lock()) core->call([&] { core->set_max_connections(info_hash_, max_connections); });
}

void TorrentHandle::force_start() {
  if (auto core = core_.lock()) core->call([&] { core->force_start(info_hash_); });
}

void TorrentHandle::set_rate_limits(std::int64_t download, std::int64_t upload) {
  if (auto core = core_.lock()) core->call([&] { core->set_rate_limits(info_hash_, download, upload); });
}

std::string TorrentHandle::torrent_file() const {
  auto core = core_.lock();
  if (!core) return {};
  return core->call([&] { return core->torrent_file(info_hash_); });
}

TorrentDetails TorrentHandle::details(const DetailsQuery& query) const {
  auto core = core_.lock();
  if (!core) return {};
  return core->call([&] { return core->details(info_hash_, query); });
}

std::vector<std::int64_t> TorrentHandle::file_progress() const {
  auto core = core_.lock();
  if (!core) return {};
  return core->call([&] { return core->file_progress(info_hash_); });
}

Expected<void, std::string> TorrentHandle::move_storage(const std::filesystem::path& new_save_path) {
  auto core = core_.lock();
  if (!core) return unexpected(std::string("the session is gone"));
  return core->call([&] { return core->move_storage(info_hash_, new_save_path); });
}

Expected<void, std::string> TorrentHandle::rename_path(const std::string& path, const std::string& new_name) {
  auto core = core_.lock();
  if (!core) return unexpected(std::string("the session is gone"));
  return core->call([&] { return core->rename_path(info_hash_, path, new_name); });
}

}  // namespace shoal
