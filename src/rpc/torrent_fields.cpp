#include "rpc/torrent_fields.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "rpc/peer_fields.hpp"

namespace shoal::rpc {

namespace {

using nlohmann::json;

bool is_done(const TorrentView& t) {
  const auto& s = t.status;
  return s.num_pieces > 0 && s.have_wanted >= s.total_wanted;
}

std::int64_t left_until_done(const TorrentView& t) {
  return std::max<std::int64_t>(0, t.status.total_wanted - t.status.have_wanted);
}

double percent_done(const TorrentView& t) {
  const auto& s = t.status;
  if (s.num_pieces == 0) return 0;
  if (s.total_wanted <= 0) return 1;
  return static_cast<double>(s.have_wanted) / static_cast<double>(s.total_wanted);
}

double upload_ratio(const TorrentView& t) {
  const auto& s = t.status;
  auto base = std::max(s.downloaded, s.have_wanted);
  if (base <= 0) return -1;  // TR_RATIO_NA
  return static_cast<double>(s.uploaded) / static_cast<double>(base);
}

std::int64_t eta(const TorrentView& t) {
  if (is_done(t) || t.status.download_rate < 1) return -1;  // TR_ETA_NOT_AVAIL
  return static_cast<std::int64_t>(static_cast<double>(left_until_done(t)) / t.status.download_rate);
}

// The host part of an announce URL, for `sitename` and `host`.
std::string url_host(const std::string& url) {
  auto start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  auto end = url.find_first_of(":/?", start);
  if (end != std::string::npos && url[end] == ':' && url.find('/', start) == std::string::npos)
    end = url.size();
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string scrape_url(const std::string& announce) {
  auto slash = announce.rfind('/');
  if (slash == std::string::npos || announce.compare(slash + 1, 8, "announce") != 0) return {};
  return announce.substr(0, slash + 1) + "scrape" + announce.substr(slash + 9);
}

json trackers(const TorrentView& t) {
  json out = json::array();
  int id = 0;
  for (const auto& tr : t.status.trackers)
    out.push_back({{"announce", tr.url},
                   {"id", id++},
                   {"scrape", scrape_url(tr.url)},
                   {"sitename", url_host(tr.url)},
                   {"tier", tr.tier}});
  return out;
}

json tracker_stats(const TorrentView& t) {
  json out = json::array();
  int id = 0;
  for (const auto& tr : t.status.trackers) {
    bool answered = tr.failures == 0 && tr.last_error.empty() && (tr.peers > 0 || tr.seeders >= 0);
    out.push_back({{"announce", tr.url},
                   {"announceState", 0},
                   {"downloadCount", -1},
                   {"hasAnnounced", answered || !tr.last_error.empty()},
                   {"hasScraped", false},
                   {"host", url_host(tr.url)},
                   {"id", id++},
                   {"isBackup", false},
                   {"lastAnnouncePeerCount", tr.peers},
                   {"lastAnnounceResult",
                    tr.last_error.empty() ? (tr.warning.empty() ? "Success" : tr.warning) : tr.last_error},
                   {"lastAnnounceStartTime", 0},
                   {"lastAnnounceSucceeded", tr.last_error.empty()},
                   {"lastAnnounceTime", 0},
                   {"lastAnnounceTimedOut", false},
                   {"lastScrapeResult", ""},
                   {"lastScrapeStartTime", 0},
                   {"lastScrapeSucceeded", false},
                   {"lastScrapeTime", 0},
                   {"lastScrapeTimedOut", false},
                   {"leecherCount", tr.leechers},
                   {"nextAnnounceTime", 0},
                   {"nextScrapeTime", 0},
                   {"scrape", scrape_url(tr.url)},
                   {"scrapeState", 0},
                   {"seederCount", tr.seeders},
                   {"sitename", url_host(tr.url)},
                   {"tier", tr.tier}});
  }
  return out;
}

std::string tracker_list(const TorrentView& t) {
  std::string out;
  int tier = -1;
  for (const auto& tr : t.status.trackers) {
    if (tier >= 0 && tr.tier != tier) out += "\n";
    out += tr.url + "\n";
    tier = tr.tier;
  }
  return out;
}

json files(const TorrentView& t) {
  json out = json::array();
  for (const auto& f : t.files)
    out.push_back({{"bytesCompleted", f.bytes_completed}, {"length", f.length}, {"name", f.name}});
  return out;
}

json file_stats(const TorrentView& t) {
  json out = json::array();
  for (const auto& f : t.files)
    out.push_back({{"bytesCompleted", f.bytes_completed}, {"wanted", f.wanted}, {"priority", f.priority}});
  return out;
}

int error_number(const TorrentView& t) {
  if (t.status.state == TorrentState::error) return 3;  // TR_STAT_LOCAL_ERROR
  for (const auto& tr : t.status.trackers) {
    if (!tr.last_error.empty() && tr.failures > 0) return 2;  // TR_STAT_TRACKER_ERROR
  }
  return 0;
}

std::string error_string(const TorrentView& t) {
  if (t.status.state == TorrentState::error) return t.status.error;
  for (const auto& tr : t.status.trackers) {
    if (!tr.last_error.empty() && tr.failures > 0) return tr.last_error;
  }
  return {};
}

std::string display_name(const TorrentView& t) {
  return t.status.name.empty() ? t.status.info_hash : t.status.name;
}

}  // namespace

TrStatus tr_status(const TorrentView& t) {
  switch (t.status.state) {
    case TorrentState::fetching_metadata:
      return TrStatus::download;
    case TorrentState::queued:
      return is_done(t) ? TrStatus::seed_wait : TrStatus::download_wait;
    case TorrentState::checking:
      return TrStatus::check;
    case TorrentState::downloading:
      return TrStatus::download;
    case TorrentState::seeding:
      return TrStatus::seed;
    case TorrentState::paused:
    case TorrentState::stopped:
    case TorrentState::error:
      return TrStatus::stopped;
  }
  return TrStatus::stopped;
}

bool field_needs_files(std::string_view field) {
  return field == "files" || field == "fileStats" || field == "wanted" || field == "priorities" ||
         field == "file-count" || field == "primary-mime-type";
}

std::optional<json> torrent_field(const TorrentView& t, std::string_view f, std::int64_t now) {
  if (auto value = peer_field(t, f)) return value;
  const auto& s = t.status;
  bool active = s.download_rate > 0 || s.upload_rate > 0;
  if (f == "id") return t.id;
  if (f == "hashString") return s.info_hash;
  if (f == "name") return display_name(t);
  if (f == "status") return static_cast<int>(tr_status(t));
  if (f == "error") return error_number(t);
  if (f == "errorString") return error_string(t);
  if (f == "totalSize") return s.total_size;
  if (f == "sizeWhenDone") return s.total_wanted;
  if (f == "leftUntilDone") return left_until_done(t);
  if (f == "desiredAvailable") return left_until_done(t);
  if (f == "haveValid") return s.have_wanted;
  if (f == "haveUnchecked") return 0;
  if (f == "percentDone") return percent_done(t);
  if (f == "percentComplete")
    return s.num_pieces > 0 ? static_cast<double>(s.pieces_have) / s.num_pieces : 0.0;
  if (f == "metadataPercentComplete") return s.num_pieces > 0 ? 1.0 : 0.0;
  if (f == "recheckProgress") return s.state == TorrentState::checking ? s.progress : 0.0;
  if (f == "rateDownload") return static_cast<std::int64_t>(s.download_rate);
  if (f == "rateUpload") return static_cast<std::int64_t>(s.upload_rate);
  if (f == "downloadedEver") return s.downloaded;
  if (f == "uploadedEver") return s.uploaded;
  if (f == "corruptEver") return std::int64_t{s.failed_pieces} * t.piece_size;
  if (f == "uploadRatio") return upload_ratio(t);
  if (f == "eta") return eta(t);
  if (f == "etaIdle") return -1;
  if (f == "isFinished") return s.state == TorrentState::stopped && is_done(t);
  if (f == "isStalled") return false;
  if (f == "isPrivate") return t.is_private;
  if (f == "peersConnected") return s.peers;
  if (f == "webseedsSendingToUs") return 0;
  if (f == "peer-limit" || f == "maxConnectedPeers") return t.peer_limit;
  if (f == "pieceCount") return s.num_pieces;
  if (f == "pieceSize") return t.piece_size;
  if (f == "downloadDir") return t.download_dir;
  if (f == "addedDate") return t.added_date;
  if (f == "doneDate") return t.done_date;
  if (f == "activityDate") return active ? now : t.activity_date;
  if (f == "startDate") return t.added_date;
  if (f == "editDate") return 0;
  if (f == "dateCreated") return t.date_created;
  if (f == "manualAnnounceTime") return -1;
  if (f == "secondsDownloading" || f == "secondsSeeding") return 0;
  if (f == "comment") return t.comment;
  if (f == "creator") return t.creator;
  if (f == "magnetLink") return t.magnet_link;
  if (f == "torrentFile") return std::string();
  if (f == "queuePosition") return t.queue_position;
  if (f == "bandwidthPriority") return 0;
  if (f == "honorsSessionLimits") return true;
  if (f == "group") return std::string();
  if (f == "labels") return json::array();
  if (f == "downloadLimit") return t.download_limit / kSpeedUnit;
  if (f == "downloadLimited") return t.download_limit > 0;
  if (f == "uploadLimit") return t.upload_limit / kSpeedUnit;
  if (f == "uploadLimited") return t.upload_limit > 0;
  // tr_ratiolimit: 0 global, 1 single, 2 unlimited; the same numbers for tr_idlelimit.
  if (f == "seedRatioMode") return !t.seed_ratio ? 0 : *t.seed_ratio < 0 ? 2 : 1;
  if (f == "seedRatioLimit") return t.seed_ratio && *t.seed_ratio >= 0 ? *t.seed_ratio : 2.0;
  if (f == "seedIdleMode") return !t.seed_idle_minutes ? 0 : *t.seed_idle_minutes < 0 ? 2 : 1;
  if (f == "seedIdleLimit")
    return t.seed_idle_minutes && *t.seed_idle_minutes >= 0 ? *t.seed_idle_minutes : std::int64_t{30};
  if (f == "trackers") return trackers(t);
  if (f == "trackerStats") return tracker_stats(t);
  if (f == "trackerList") return tracker_list(t);
  if (f == "webseeds") return t.web_seeds;
  if (f == "files") return files(t);
  if (f == "fileStats") return file_stats(t);
  if (f == "file-count") return t.files.size();
  if (f == "wanted") {
    json out = json::array();
    for (const auto& file : t.files)
      out.push_back(file.wanted ? 1 : 0);
    return out;
  }
  if (f == "priorities") {
    json out = json::array();
    for (const auto& file : t.files)
      out.push_back(file.priority);
    return out;
  }
  if (f == "primary-mime-type") return std::string("application/octet-stream");
  return std::nullopt;
}

}  // namespace shoal::rpc
