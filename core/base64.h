// Base64 (RFC 4648 section 4, padded) and base64url (section 5, unpadded): pure
// functions that append to a caller-owned std::string. Decoding is strict: characters
// outside the alphabet, whitespace, misplaced or missing padding and non-zero leftover
// bits (section 3.5) are refused, so every accepted text has exactly one encoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace strom {

// Encoded length of n bytes: padded (a multiple of 4) or unpadded.
constexpr size_t base64_encoded_size(size_t n)
{
    return (n + 2) / 3 * 4;
}
constexpr size_t base64url_encoded_size(size_t n)
{
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

// Append the encoding of n bytes at p to *out.
void base64_encode(const void* p, size_t n, std::string* out);
void base64url_encode(const void* p, size_t n, std::string* out);
std::string base64_encode(std::string_view s);
std::string base64url_encode(std::string_view s);

// Append the decoded bytes to *out; false (with *out unchanged) on any invalid input.
// base64 wants a length that is a multiple of 4 with '=' only as the last one or two
// characters; base64url wants no '=' at all and a length that is not 1 mod 4.
[[nodiscard]] bool base64_decode(std::string_view in, std::string* out);
[[nodiscard]] bool base64url_decode(std::string_view in, std::string* out);

}  // namespace strom
