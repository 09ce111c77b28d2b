// Web seeds (BEP 19) inside the torrent core: which pieces each seed fetches, what becomes of the pieces it
// hands back, and its strikes. The HTTP conversation itself is webseed::WebSeed's; the driver only moves
// bytes.
//
// A web seed takes a run of consecutive untouched pieces (wanted, not had, no block asked of anyone): whole
// pieces, so that a piece that fails its hash check names its supplier, and consecutive, so that one Range
// request per file covers them. Its claim is an ordinary request in the picker under an id no peer has:
// peers leave those pieces alone, except in end-game, where they may duplicate blocks as they do for each
// other. Pieces it gives up (a failure, a ban) go back to the picker block by block.
#include <cstring>

#include "torrent/torrent.hpp"

namespace shoal::torrent {

std::size_t Torrent::add_web_seed(webseed::Layout layout) {
  web_seeds_.push_back({webseed::WebSeed(std::move(layout)), next_peer_id_++});
  return web_seeds_.size() - 1;
}

std::optional<webseed::Request> Torrent::web_seed_request(std::size_t seed, Clock::time_point now) {
  now_ = std::max(now_, now);
  if (seed >= web_seeds_.size()) return std::nullopt;
  auto& slot = web_seeds_[seed];
  if (phase_ == Phase::downloading && !metadata_fetch_ && slot.core.wants_work(now))
    claim_for_web_seed(seed, now);
  return slot.core.request();
}

void Torrent::claim_for_web_seed(std::size_t seed, Clock::time_point now) {
  auto& slot = web_seeds_[seed];
  // Back-pressure as for peers: while the disk is behind, ask for nothing more.
  if (writes_in_flight_ >= kMaxWritesInFlight) return;
  auto usable = [&](PieceIndex p) { return picker_.untouched(p) && !slot.core.failed_before(p); };
  std::optional<PieceIndex> found;
  std::int32_t untouched = 0;
  for (PieceIndex p{0}; p.get() < params_.num_pieces; ++p) {
    if (!usable(p)) continue;
    ++untouched;
    if (!found) found = p;
  }
  if (!found) return;
  // A fair share of what is left: the other seeds and the peers find pieces too, and a slow seed does not
  // sit on the end of the download.
  auto sources = static_cast<std::int32_t>(peers_.size());
  for (const auto& w : web_seeds_)
    sources += w.core.banned() ? 0 : 1;
  auto limit = std::min(slot.core.max_run(), std::max<std::int32_t>(1, untouched / std::max(1, sources)));
  PieceIndex first = *found;
  std::int32_t count = 0;
  while (count < limit && first.get() + count < params_.num_pieces &&
         usable(PieceIndex{first.get() + count})) {
    picker_.claim_piece(slot.id, PieceIndex{first.get() + count});
    ++count;
  }
  slot.core.begin(first, count, now);
  web_seed_outputs(seed, now);  // a run of pad bytes only is complete at once
}

webseed::HeadDecision Torrent::on_web_seed_head(std::size_t seed, const webseed::ResponseHead& head,
                                                Clock::time_point now) {
  now_ = std::max(now_, now);
  if (seed >= web_seeds_.size()) return {};
  auto decision = web_seeds_[seed].core.on_head(head, now);
  if (decision.verdict == webseed::HeadVerdict::fail)
    log("web seed " + web_seeds_[seed].core.url() + ": " + web_seeds_[seed].core.last_error());
  web_seed_outputs(seed, now);
  return decision;
}

std::int64_t Torrent::on_web_seed_body(std::size_t seed, std::span<const std::uint8_t> bytes,
                                       Clock::time_point now) {
  now_ = std::max(now_, now);
  if (seed >= web_seeds_.size()) return 0;
  auto before = web_seeds_[seed].core.downloaded();
  auto more = web_seeds_[seed].core.on_body(bytes, now);
  auto got = web_seeds_[seed].core.downloaded() - before;
  downloaded_ += got;
  down_tick_ += got;
  web_seed_outputs(seed, now);
  return more;
}

void Torrent::on_web_seed_failed(std::size_t seed, const std::string& reason, Clock::time_point now) {
  now_ = std::max(now_, now);
  if (seed >= web_seeds_.size()) return;
  auto& core = web_seeds_[seed].core;
  if (core.state(now) != webseed::State::fetching) return;
  core.on_failure(reason, now);
  log("web seed " + core.url() + ": " + reason);
  web_seed_outputs(seed, now);
}

// Complete pieces into assembly; given-up pieces back to the picker (a ban is the driver's to tell: it
// reads web_seed_reports).
void Torrent::web_seed_outputs(std::size_t seed, Clock::time_point now) {
  auto& slot = web_seeds_[seed];
  for (auto& piece : slot.core.take_pieces())
    web_seed_piece(seed, piece.index, std::move(piece.data));
  auto released = web_seeds_[seed].core.take_released();
  for (auto piece : released)
    picker_.release_piece(web_seeds_[seed].id, piece);
  if (!released.empty() && active()) {
    for (auto& [id, p] : peers_)
      request_more(id, p);
  }
  (void)now;
}

void Torrent::web_seed_piece(std::size_t seed, PieceIndex piece, std::vector<std::uint8_t> data) {
  const PeerId id = web_seeds_[seed].id;
  resume_dirty_ = true;
  auto existing = assembling_.find(piece);
  bool any = false;
  bool complete = false;
  for (std::int32_t b = 0; b < picker_.blocks_in_piece(piece); ++b) {
    auto begin = b * swarm::kBlockSize;
    auto length = static_cast<std::int32_t>(
        std::min<std::int64_t>(swarm::kBlockSize, static_cast<std::int64_t>(data.size()) - begin));
    swarm::BlockRequest r{piece, begin, length};
    auto result = picker_.on_block_received(id, r);
    if (!result.accepted) continue;  // a peer was quicker (end-game), or the piece is done
    any = true;
    complete |= result.piece_complete;
    if (existing != assembling_.end())
      std::memcpy(existing->second.data() + begin, data.data() + begin, static_cast<std::size_t>(length));
    // End-game: peers asked for the same blocks are told not to bother.
    swarm::BlockRequest block = r;
    for (auto other : result.cancel_from) {
      if (auto* op = find(other); op && op->protocol.cancel_request(block)) {
        flush(*op);
        wake(other, *op);
      }
    }
  }
  if (!any) return;
  // The one copy on this path: the seed's buffer becomes the piece's (unless peers started it).
  if (existing == assembling_.end()) assembling_.emplace(piece, std::move(data));
  if (!complete) return;
  auto suppliers = picker_.block_suppliers(piece);
  if (std::all_of(suppliers.begin(), suppliers.end(), [id](PeerId s) { return s == id; }))
    web_seed_pieces_[piece] = seed;
  piece_complete(piece);
}

void Torrent::web_seed_verdict(PieceIndex piece, bool hash_ok) {
  auto it = web_seed_pieces_.find(piece);
  if (it == web_seed_pieces_.end()) return;
  auto seed = it->second;
  web_seed_pieces_.erase(it);
  auto& slot = web_seeds_[seed];
  if (hash_ok) {
    slot.core.on_hash_passed();
    return;
  }
  log("web seed " + slot.core.url() + ": piece " + std::to_string(piece.get()) + " failed the hash check");
  slot.core.avoid(piece);
}

// A web seed's blocks are on record under a key of its own, so that a piece it shared with peers (end-game)
// is judged block by block like any: the liar is struck, the honest co-supplier is not.
std::optional<swarm::SmartBan::Address> Torrent::supplier_key(PeerId id) const {
  if (auto it = peers_.find(id); it != peers_.end()) return swarm::ban_key(it->second.remote);
  for (const auto& w : web_seeds_) {
    if (w.id == id) return swarm::SmartBan::Address::of_web_seed(id);
  }
  return std::nullopt;
}

void Torrent::strike_web_seed(PeerId id) {
  for (std::size_t seed = 0; seed < web_seeds_.size(); ++seed) {
    auto& core = web_seeds_[seed].core;
    if (web_seeds_[seed].id != id) continue;
    bool was_banned = core.banned();
    core.on_hash_failed(std::nullopt, now_);
    if (!was_banned)
      log("web seed " + core.url() + ": hash failure " + std::to_string(core.hash_failures()) + " of " +
          std::to_string(webseed::kMaxHashFailures));
    web_seed_outputs(seed, now_);  // a ban gives its unfinished run back
  }
}

std::vector<Torrent::WebSeedReport> Torrent::web_seed_reports(Clock::time_point now) const {
  std::vector<WebSeedReport> out;
  out.reserve(web_seeds_.size());
  for (const auto& w : web_seeds_)
    out.push_back(
        {w.core.url(), w.core.state(now), w.core.downloaded(), w.core.hash_failures(), w.core.last_error()});
  return out;
}

}  // namespace shoal::torrent
