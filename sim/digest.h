/* digest.h — content identity: SHA-256 of an input's bytes, as lowercase hex.
 *
 * The store keys every arch, model and trace by this digest, so the same bytes are stored once
 * whatever their file name, and a user can reproduce an identity with a standard tool:
 * `bitsim trace cat t.trace | sha256sum` prints the content_hash of that trace in the database
 * (a trace is stored in its canonical form, which `trace cat` writes). SHA-256 from Debian's
 * nettle (libnettle, README "Dependencies"): collisions are not a practical concern, unlike the
 * 64-bit FNV-1a pair it replaces, and it needs no code of our own to trust.
 */
#ifndef BITSIM_DIGEST_H
#define BITSIM_DIGEST_H

#include <stddef.h>

#define DIGEST_HEX_LEN 64

/* out receives 64 hex digits and a NUL. */
void digest_sha256_hex(const void *data, size_t len, char out[DIGEST_HEX_LEN + 1]);

#endif
