/* base64url.c and embed_token.c: the encoding against RFC 4648's test
 * vectors, the token's form, its SHA-256 against a known digest, and the
 * forms a credential must have before Redis is asked. */
#include <criterion/criterion.h>
#include <string.h>

#include "session/base64url.h"
#include "session/embed_token.h"

static void
expect_encoding(const char *in, const char *out)
{
	char buf[64];

	base64url_encode(in, strlen(in), buf);
	cr_expect_str_eq(buf, out, "%s", in);
	cr_expect_eq(strlen(buf), BASE64URL_LEN(strlen(in)), "%s", in);
}

Test(base64url, rfc4648_vectors_without_padding)
{
	expect_encoding("", "");
	expect_encoding("f", "Zg");
	expect_encoding("fo", "Zm8");
	expect_encoding("foo", "Zm9v");
	expect_encoding("foob", "Zm9vYg");
	expect_encoding("fooba", "Zm9vYmE");
	expect_encoding("foobar", "Zm9vYmFy");
}

Test(base64url, url_alphabet_not_plus_and_slash)
{
	const unsigned char in[] = {0xfb, 0xff, 0xfe};
	char out[8];

	base64url_encode(in, sizeof(in), out);
	cr_expect_str_eq(out, "-__-");
}

Test(base64url, alphabet_membership)
{
	cr_expect(base64url_is_char('A') && base64url_is_char('z') &&
	          base64url_is_char('0') && base64url_is_char('-') &&
	          base64url_is_char('_'));
	cr_expect(!base64url_is_char('+') && !base64url_is_char('/') &&
	          !base64url_is_char('=') && !base64url_is_char('.') &&
	          !base64url_is_char('\0') && !base64url_is_char(' '));
}

Test(embed_token, generated_tokens_are_43_url_safe_chars_and_differ)
{
	char a[EMBED_TOKEN_LEN + 1], b[EMBED_TOKEN_LEN + 1];

	cr_assert_eq(EMBED_TOKEN_LEN, 43);
	cr_assert(embed_token_generate(a));
	cr_assert(embed_token_generate(b));
	cr_expect_eq(strlen(a), 43);
	cr_expect(embed_token_is_well_formed(a, strlen(a)), "%s", a);
	cr_expect(embed_token_is_well_formed(b, strlen(b)), "%s", b);
	cr_expect_str_neq(a, b);
}

Test(embed_token, well_formed_means_exactly_43_base64url_chars)
{
	char t[64];

	memset(t, 'A', 43);
	t[43] = '\0';
	cr_expect(embed_token_is_well_formed(t, 43));
	cr_expect(!embed_token_is_well_formed(t, 42));
	t[43] = 'A';
	cr_expect(!embed_token_is_well_formed(t, 44));
	cr_expect(!embed_token_is_well_formed("", 0));
	memset(t, 'A', 43);
	t[10] = '=';
	cr_expect(!embed_token_is_well_formed(t, 43), "padding");
	t[10] = '+';
	cr_expect(!embed_token_is_well_formed(t, 43), "standard alphabet");
	t[10] = '\0';
	cr_expect(!embed_token_is_well_formed(t, 43), "NUL inside");
	t[10] = ' ';
	cr_expect(!embed_token_is_well_formed(t, 43), "space inside");
}

Test(embed_token, hash_is_hex_sha256_of_the_text)
{
	/* printf 'A%.0s' {1..43} | sha256sum */
	char t[EMBED_TOKEN_LEN + 1], hash[EMBED_HASH_LEN + 1];

	memset(t, 'A', 43);
	t[43] = '\0';
	cr_assert(embed_token_hash(t, hash));
	cr_expect_str_eq(hash, "0f007385b6f9d4b7eeb2748605afe1a984a0a3bf"
	                       "a3f014d09e2a784ce9e5cd1a");
}
