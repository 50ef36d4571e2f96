/*
 * auth_passwd.c - see auth_passwd.h.
 */
#include "core/common.h"

#include <crypt.h>
#include <openssl/crypto.h>

#include "auth/auth_passwd.h"

int
auth_passwd_hash(const char *password, char *out, size_t size)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data;
	const char *h;
	int r = -1;

	/* count 0: libxcrypt's default cost for yescrypt. */
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting)) ==
	    NULL)
		return -1;
	data = xcalloc(1, sizeof(*data));
	h = crypt_r(password, setting, data);
	if (h != NULL && h[0] == '$' && cstr_copy(out, size, h) == 0)
		r = 0;
	explicit_bzero(data, sizeof(*data));
	free(data);
	return r;
}

bool
auth_passwd_verify(const char *password, const char *hash)
{
	struct crypt_data *data = xcalloc(1, sizeof(*data));
	const char *h;
	bool ok = false;
	size_t len = strlen(hash);

	h = crypt_r(password, hash, data);
	/* crypt_r returns "*0"/"*1" on failure; lengths differ then. */
	if (h != NULL && h[0] == '$' && strlen(h) == len)
		ok = CRYPTO_memcmp(h, hash, len) == 0;
	explicit_bzero(data, sizeof(*data));
	free(data);
	return ok;
}
