// BEP 5 KRPC messages over bencode: queries (ping, find_node, get_peers, announce_peer, sample_infohashes),
// responses and errors, with strict validation of every field a node relies on. Sans-I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "shoal/digest.hpp"
#include "shoal/endpoint.hpp"
#include "shoal/expected.hpp"

namespace shoal::dht {

using NodeId = Sha1Digest;

inline constexpr std::size_t kMaxTransactionId = 16;  // longer ids are refused (we answer with what we got)
inline constexpr std::size_t kMaxNodesPerMessage = 64;
inline constexpr std::size_t kMaxValuesPerMessage = 200;
inline constexpr std::size_t kMaxTokenLength = 64;

struct NodeInfo {
  NodeId id;
  Endpoint endpoint;
  bool operator==(const NodeInfo&) const = default;
};

enum class Method { ping, find_node, get_peers, announce_peer, sample_infohashes };

struct Query {
  std::string transaction;
  Method method = Method::ping;
  NodeId sender;
  NodeId target;  // find_node target, get_peers/announce_peer info_hash, sample_infohashes target
  std::uint16_t port = 0;
  bool implied_port = false;
  std::string token;
  bool want4 = false;  // BEP 32 "want": neither set means "the family the query came over"
  bool want6 = false;
  bool read_only = false;  // BEP 43 "ro"
  bool scrape = false;     // BEP 33, get_peers: send the seed and peer bloom filters
  bool noseed = false;     // BEP 33, get_peers: rather non-seeds in "values"
  bool seed = false;       // BEP 33, announce_peer: the announcing peer is a seed
};

inline constexpr std::size_t kScrapeBloomSize = 256;  // BEP 33: 2048 bits

struct Response {
  std::string transaction;
  NodeId sender;
  std::vector<NodeInfo> nodes;   // "nodes" and "nodes6" together
  std::vector<Endpoint> values;  // get_peers peers
  std::optional<std::string> token;
  std::optional<Endpoint> your_ip;  // BEP 42 "ip": how the responder sees us
  std::vector<NodeId> samples;      // BEP 51
  std::optional<std::int64_t> num;  // BEP 51: info-hashes the node holds
  std::optional<std::int64_t> interval;
  std::optional<std::string> bloom_seeds;  // BEP 33 "BFsd", kScrapeBloomSize bytes
  std::optional<std::string> bloom_peers;  // BEP 33 "BFpe"
};

struct ErrorReply {
  std::string transaction;
  int code = 0;
  std::string message;
};

using Message = std::variant<Query, Response, ErrorReply>;

// BEP 5 error codes.
enum class ErrorCode { generic = 201, server = 202, protocol = 203, method_unknown = 204 };

struct DecodeError {
  ErrorCode code = ErrorCode::protocol;
  std::string transaction;  // when the packet had one, so the error reply can carry it
  const char* detail = "";
  bool answerable = false;  // a query we can reply to with an error (has t, is a dict)
};

Expected<Message, DecodeError> decode(std::string_view packet);

// Encoders. `client_version` goes into "v" when non-empty.
std::string encode(const Query& q, std::string_view client_version = {});
std::string encode(const Response& r, std::string_view client_version = {});
std::string encode(const ErrorReply& e, std::string_view client_version = {});

const char* method_name(Method m);

}  // namespace shoal::dht
