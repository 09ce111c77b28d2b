// The BEP 44 part of the KRPC codec: reading and writing the item fields of `get` and `put` queries and of
// `get` responses. Called from krpc.cpp; kept apart so the BEP 5 codec stays readable.
#pragma once

#include <optional>

#include "bencode/decoder.hpp"
#include "bencode/value.hpp"
#include "dht/krpc.hpp"

namespace shoal::dht::detail {

struct FieldError {
  ErrorCode code = ErrorCode::protocol;
  const char* detail = "";
};

// Reads the arguments ("a") of a get or put query into q (token, item fields). nullopt when they are valid.
std::optional<FieldError> read_item_query(const bencode::Node& args, Query& q);
// Reads the item fields of a response ("r"); the detail of the first bad one otherwise.
std::optional<const char*> read_item_response(const bencode::Node& body, ItemFields& out);

// Adds the arguments of a get or put query to "a".
void write_item_query(const Query& q, bencode::Value::Dict& args);
// Adds whatever item fields are set to a response body.
void write_item_response(const ItemFields& item, bencode::Value::Dict& body);

}  // namespace shoal::dht::detail
