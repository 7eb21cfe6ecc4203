#include "embed_token.h"

#include <string.h>

#include <openssl/evp.h>

#include "random_bytes.h"

bool
embed_token_generate(char out[EMBED_TOKEN_LEN + 1])
{
	unsigned char bytes[EMBED_TOKEN_BYTES];

	if (!random_bytes(bytes, sizeof(bytes)))
		return false;
	base64url_encode(bytes, sizeof(bytes), out);
	return true;
}

bool
embed_token_is_well_formed(const char *text, size_t len)
{
	if (len != EMBED_TOKEN_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!base64url_is_char(text[i]))
			return false;
	}
	return true;
}

bool
embed_token_hash(const char *token, char out[EMBED_HASH_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (EVP_Digest(token, EMBED_TOKEN_LEN, md, &md_len, EVP_sha256(),
	               NULL) != 1 ||
	    md_len * 2 != EMBED_HASH_LEN)
		return false;
	for (size_t i = 0; i < md_len; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[EMBED_HASH_LEN] = '\0';
	return true;
}
