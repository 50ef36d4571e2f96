/*
 * fuzz_dkim_key.c - libFuzzer harness for key records (dkim_key.c):
 * tag list, v= first, k=, h=, s=, t=, and p= down to the DER or raw key
 * that OpenSSL decodes.
 *
 * An accepted record must be consistent: revoked exactly when there is
 * no key, the key of the type k= names. A key must survive the trip
 * through dkim_key_record() and back to the same public key. The raw
 * input is also decoded as a bare p= value of either type.
 */
#include "core/common.h"

#include <openssl/evp.h>

#include "dkim/dkim_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_key(const struct dkim_key *key)
{
	struct dkim_key again;
	struct buf rec;
	const char *why = NULL;
	int want;

	if (key->revoked != (key->pkey == NULL))
		abort();
	if (key->pkey == NULL)
		return;
	want = key->alg == DKIM_ALG_ED25519_SHA256 ? EVP_PKEY_ED25519 :
	    EVP_PKEY_RSA;
	if (key->alg == DKIM_ALG_RSA_SHA1 ||
	    EVP_PKEY_get_base_id(key->pkey) != want)
		abort();
	/* Written back as a record, it reads the same. */
	buf_init(&rec, 16384);
	if (dkim_key_record(key->pkey, key->alg, &rec) != 0 ||
	    dkim_key_parse(str_make(buf_data(&rec), buf_len(&rec)), &again,
	    &why) != 0 || again.alg != key->alg || again.testing ||
	    EVP_PKEY_eq(again.pkey, key->pkey) != 1)
		abort();
	dkim_key_release(&again);
	buf_release(&rec);
}

/* The input as the value of p= under each k=. */
static void
check_p(const char *in, size_t len)
{
	static const char *const kinds[] = { "k=rsa; p=", "k=ed25519; p=" };
	struct dkim_key key;
	struct buf rec;
	const char *why = NULL;
	size_t i;

	if (memchr(in, ';', len) != NULL)
		return;
	for (i = 0; i < ARRAY_LEN(kinds); i++) {
		buf_init(&rec, BUF_NOCAP);
		if (buf_adds(&rec, kinds[i]) == -1 ||
		    buf_add(&rec, in, len) == -1)
			abort();
		if (dkim_key_parse(str_make(buf_data(&rec), buf_len(&rec)),
		    &key, &why) == 0) {
			check_key(&key);
			dkim_key_release(&key);
		} else if (why == NULL) {
			abort();
		}
		buf_release(&rec);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct dkim_key key;
	const char *why = NULL;

	if (dkim_key_parse(str_make(in, size), &key, &why) == 0) {
		check_key(&key);
		dkim_key_release(&key);
		if (key.pkey != NULL)
			abort();
	} else if (why == NULL || key.pkey != NULL) {
		abort();
	}
	check_p(in, size);
	return 0;
}
