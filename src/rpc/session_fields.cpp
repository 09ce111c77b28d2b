#include "rpc/session_fields.hpp"

#include "rpc/torrent_fields.hpp"
#include "shoal/version.hpp"

namespace shoal::rpc {

using nlohmann::json;

json session_arguments(const SessionValues& v, std::uint16_t peer_port, const std::string& session_id) {
  json units = {{"speed-units", {"kB/s", "MB/s", "GB/s", "TB/s"}}, {"speed-bytes", kSpeedUnit},
                {"size-units", {"kB", "MB", "GB", "TB"}},          {"size-bytes", 1000},
                {"memory-units", {"KiB", "MiB", "GiB", "TiB"}},    {"memory-bytes", 1024}};
  return json{
      {"alt-speed-down", v.alt_speed_down / kSpeedUnit},
      {"alt-speed-enabled", v.alt_speed_enabled},
      {"alt-speed-time-begin", v.alt_speed_time_begin},
      {"alt-speed-time-day", v.alt_speed_time_day},
      {"alt-speed-time-enabled", v.alt_speed_time_enabled},
      {"alt-speed-time-end", v.alt_speed_time_end},
      {"alt-speed-up", v.alt_speed_up / kSpeedUnit},
      {"blocklist-enabled", false},
      {"blocklist-size", 0},
      {"blocklist-url", ""},
      {"cache-size-mb", 0},
      {"config-dir", v.config_dir},
      {"default-trackers", ""},
      {"dht-enabled", v.dht_enabled},
      {"download-dir", v.download_dir},
      {"download-queue-enabled", v.download_queue_enabled},
      {"download-queue-size", v.download_queue_size},
      {"encryption", v.encryption},
      {"idle-seeding-limit", v.idle_seeding_limit},
      {"idle-seeding-limit-enabled", v.idle_seeding_limit_enabled},
      {"incomplete-dir", v.download_dir},
      {"incomplete-dir-enabled", false},
      {"lpd-enabled", v.lpd_enabled},
      {"peer-limit-global", v.peer_limit_global},
      {"peer-limit-per-torrent", v.peer_limit_per_torrent},
      {"peer-port", peer_port != 0 ? int{peer_port} : v.peer_port},
      {"peer-port-random-on-start", false},
      {"pex-enabled", v.pex_enabled},
      {"port-forwarding-enabled", v.port_forwarding_enabled},
      {"queue-stalled-enabled", false},
      {"queue-stalled-minutes", 30},
      {"rename-partial-files", false},
      {"rpc-version", kRpcVersion},
      {"rpc-version-minimum", kRpcVersionMinimum},
      {"rpc-version-semver", "5.3.0"},
      {"script-torrent-added-enabled", false},
      {"script-torrent-added-filename", ""},
      {"script-torrent-done-enabled", v.done_script_enabled},
      {"script-torrent-done-filename", v.done_script},
      {"script-torrent-done-seeding-enabled", false},
      {"script-torrent-done-seeding-filename", ""},
      {"seed-queue-enabled", v.seed_queue_enabled},
      {"seed-queue-size", v.seed_queue_size},
      {"seedRatioLimit", v.seed_ratio_limit},
      {"seedRatioLimited", v.seed_ratio_limited},
      {"session-id", session_id},
      {"speed-limit-down", v.speed_limit_down / kSpeedUnit},
      {"speed-limit-down-enabled", v.speed_limit_down_enabled},
      {"speed-limit-up", v.speed_limit_up / kSpeedUnit},
      {"speed-limit-up-enabled", v.speed_limit_up_enabled},
      {"start-added-torrents", v.start_added_torrents},
      {"trash-original-torrent-files", false},
      {"units", units},
      {"utp-enabled", v.utp_enabled},
      {"version", "Shoal " + std::string(shoal::version())},
  };
}

json mutable_session_arguments(const SessionValues& values) {
  auto all = session_arguments(values, 0, {});
  json out = json::object();
  for (const char* key : {"download-dir",
                          "speed-limit-down",
                          "speed-limit-down-enabled",
                          "speed-limit-up",
                          "speed-limit-up-enabled",
                          "alt-speed-down",
                          "alt-speed-up",
                          "alt-speed-enabled",
                          "alt-speed-time-enabled",
                          "alt-speed-time-begin",
                          "alt-speed-time-end",
                          "alt-speed-time-day",
                          "download-queue-enabled",
                          "download-queue-size",
                          "seed-queue-enabled",
                          "seed-queue-size",
                          "seedRatioLimit",
                          "seedRatioLimited",
                          "idle-seeding-limit",
                          "idle-seeding-limit-enabled",
                          "peer-limit-global",
                          "peer-limit-per-torrent",
                          "dht-enabled",
                          "lpd-enabled",
                          "port-forwarding-enabled",
                          "pex-enabled",
                          "encryption",
                          "utp-enabled",
                          "start-added-torrents"})
    out[key] = all[key];
  return out;
}

namespace {

// Reads args[key] into `out` when present; a wrong type is an error naming the key.
template <class T>
Expected<void, std::string> read(const json& args, const char* key, T& out) {
  auto it = args.find(key);
  if (it == args.end()) return {};
  if constexpr (std::is_same_v<T, bool>) {
    if (it->is_boolean())
      out = it->get<bool>();
    else if (it->is_number_integer())
      out = it->get<std::int64_t>() != 0;  // some clients send 0/1
    else
      return unexpected(std::string(key) + " must be a boolean");
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return unexpected(std::string(key) + " must be a string");
    out = it->get<std::string>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!it->is_number()) return unexpected(std::string(key) + " must be a number");
    out = it->get<double>();
  } else {
    if (!it->is_number()) return unexpected(std::string(key) + " must be a number");
    double d = it->get<double>();
    if (d < 0 || d > 1e15) return unexpected(std::string(key) + " is out of range");
    out = static_cast<T>(d);
  }
  return {};
}

// Speeds arrive in kB/s.
Expected<void, std::string> read_speed(const json& args, const char* key, std::int64_t& bytes_per_second) {
  std::int64_t kbps = -1;
  if (auto r = read(args, key, kbps); !r) return r;
  if (kbps >= 0) bytes_per_second = kbps * kSpeedUnit;
  return {};
}

}  // namespace

Expected<SessionValues, std::string> apply_session_arguments(SessionValues v, const json& args,
                                                             const PathPolicy& paths) {
  if (!args.is_object()) return unexpected(std::string("arguments must be an object"));
  // The completion hook runs programs: it is set in the config file by the machine's owner, never over RPC.
  for (const char* key : {"script-torrent-done-filename", "script-torrent-done-enabled",
                          "script-torrent-added-filename", "script-torrent-added-enabled",
                          "script-torrent-done-seeding-filename", "script-torrent-done-seeding-enabled"}) {
    if (args.contains(key))
      return unexpected(std::string(key) + " can only be set in the daemon's config file");
  }
  if (args.contains("blocklist-enabled") && args["blocklist-enabled"] == true)
    return unexpected(std::string("blocklists are not supported by Shoal"));
  std::string dir;
  if (auto r = read(args, "download-dir", dir); !r) return unexpected(r.error());
  if (!dir.empty()) {
    auto confined = paths.confine(dir);
    if (!confined) return unexpected("download-dir: " + confined.error());
    v.download_dir = confined->string();
  }
  Expected<void, std::string> results[] = {
      read_speed(args, "speed-limit-down", v.speed_limit_down),
      read(args, "speed-limit-down-enabled", v.speed_limit_down_enabled),
      read_speed(args, "speed-limit-up", v.speed_limit_up),
      read(args, "speed-limit-up-enabled", v.speed_limit_up_enabled),
      read_speed(args, "alt-speed-down", v.alt_speed_down),
      read_speed(args, "alt-speed-up", v.alt_speed_up),
      read(args, "alt-speed-enabled", v.alt_speed_enabled),
      read(args, "alt-speed-time-enabled", v.alt_speed_time_enabled),
      read(args, "alt-speed-time-begin", v.alt_speed_time_begin),
      read(args, "alt-speed-time-end", v.alt_speed_time_end),
      read(args, "alt-speed-time-day", v.alt_speed_time_day),
      read(args, "download-queue-enabled", v.download_queue_enabled),
      read(args, "download-queue-size", v.download_queue_size),
      read(args, "seed-queue-enabled", v.seed_queue_enabled),
      read(args, "seed-queue-size", v.seed_queue_size),
      read(args, "seedRatioLimit", v.seed_ratio_limit),
      read(args, "seedRatioLimited", v.seed_ratio_limited),
      read(args, "idle-seeding-limit", v.idle_seeding_limit),
      read(args, "idle-seeding-limit-enabled", v.idle_seeding_limit_enabled),
      read(args, "peer-limit-global", v.peer_limit_global),
      read(args, "peer-limit-per-torrent", v.peer_limit_per_torrent),
      read(args, "peer-port", v.peer_port),
      read(args, "dht-enabled", v.dht_enabled),
      read(args, "lpd-enabled", v.lpd_enabled),
      read(args, "port-forwarding-enabled", v.port_forwarding_enabled),
      read(args, "pex-enabled", v.pex_enabled),
      read(args, "encryption", v.encryption),
      read(args, "utp-enabled", v.utp_enabled),
      read(args, "start-added-torrents", v.start_added_torrents),
  };
  for (auto& r : results) {
    if (!r) return unexpected(r.error());
  }
  if (v.alt_speed_time_begin < 0 || v.alt_speed_time_begin >= 24 * 60 || v.alt_speed_time_end < 0 ||
      v.alt_speed_time_end >= 24 * 60)
    return unexpected(std::string("alt-speed-time-begin and -end are minutes after midnight (0-1439)"));
  if (v.peer_port > 65535) return unexpected(std::string("peer-port is out of range"));
  if (v.encryption != "required" && v.encryption != "preferred" && v.encryption != "tolerated")
    return unexpected(std::string("encryption must be \"required\", \"preferred\" or \"tolerated\""));
  return v;
}

}  // namespace shoal::rpc
