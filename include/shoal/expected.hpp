/// @file
/// A small expected-style result for protocol boundaries (C++20 lacks std::expected).
/// Errors are values: decoders return Expected<T, SomeError> and never throw on untrusted input.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace shoal {

/// The error side of an Expected, made with shoal::unexpected(error).
template <class E>
class Unexpected {
 public:
  explicit Unexpected(E error) : error_(std::move(error)) {}
  E& error() & { return error_; }
  /// The error, moved out; only when !has_value().
  E&& error() && { return std::move(error_); }
  const E& error() const& { return error_; }

 private:
  E error_;
};

/// Wraps an error so it converts to any Expected<T, E>: `return unexpected("why");`.
template <class E>
Unexpected<std::decay_t<E>> unexpected(E&& error) {
  return Unexpected<std::decay_t<E>>(std::forward<E>(error));
}

/// Either a value of type T or an error of type E, like C++23's std::expected.
///
/// Test it (`if (!r)`, has_value()) before reading: value(), operator* and operator-> on an error, and
/// error() on a value, are a precondition violation (an assert in debug builds). Not thread-safe to modify; a
/// const object may be read from many threads.
template <class T, class E>
class [[nodiscard]] Expected {
 public:
  using value_type = T;
  using error_type = E;

  /// A value: anything T can be constructed from.
  template <class U = T>
  requires std::is_constructible_v<T, U&&> &&(!std::is_same_v<std::decay_t<U>, Expected>)Expected(U&& value)
      : storage_(std::in_place_index<0>, std::forward<U>(value)) {}
  /// An error.
  template <class G>
  Expected(Unexpected<G> error) : storage_(std::in_place_index<1>, std::move(error).error()) {}

  /// True if this holds a value, false if an error.
  bool has_value() const { return storage_.index() == 0; }
  /// Same as has_value().
  explicit operator bool() const { return has_value(); }

  /// @name The value; only when has_value().
  /// @{
  T& value() & { return checked_value(); }
  const T& value() const& { return const_cast<Expected*>(this)->checked_value(); }
  T&& value() && { return std::move(checked_value()); }
  T& operator*() & { return checked_value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(checked_value()); }
  T* operator->() { return &checked_value(); }
  const T* operator->() const { return &value(); }
  /// @}

  /// The error; only when !has_value().
  const E& error() const& {
    assert(!has_value());
    return std::get<1>(storage_);
  }
  E&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(storage_));
  }

 private:
  T& checked_value() {
    assert(has_value());
    return std::get<0>(storage_);
  }
  std::variant<T, E> storage_;
};

/// Expected<void, E>: success carries no value.
template <class E>
class [[nodiscard]] Expected<void, E> {
 public:
  /// Success.
  Expected() = default;
  /// An error.
  template <class G>
  Expected(Unexpected<G> error) : error_(std::move(error).error()), failed_(true) {}
  /// True on success.
  bool has_value() const { return !failed_; }
  /// Same as has_value().
  explicit operator bool() const { return has_value(); }
  /// The error; only when !has_value().
  const E& error() const {
    assert(failed_);
    return error_;
  }

 private:
  E error_{};
  bool failed_ = false;
};

}  // namespace shoal
