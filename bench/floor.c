/*
 * The least a C program pays for what tokrun does, on the same libraries:
 * the floor the bench compares tokrun with (built by bench/run with cc).
 *
 *   floor hmac               one HMAC-SHA256 with OpenSSL, as a cache hit
 *                            computes its key; prints the hex
 *   floor get BASE [CAFILE]  the Velafi flow: sign "timestamp=MS" with
 *                            HMAC-SHA256, GET BASE/v2/token/generate with
 *                            libcurl, print the body
 *
 * Keys come from VELAFI_API_KEY / VELAFI_API_SECRET.  OpenSSL and libcurl
 * are initialised as their defaults say (the system configuration loaded),
 * as tokrun and curl do.  Built with -DFLOOR_NO_CURL, only `floor hmac`
 * remains and libcurl is not linked (a cache hit does not map it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/evp.h>
#ifndef FLOOR_NO_CURL
#include <curl/curl.h>
#endif

static int hmac_hex(const char *key, const char *msg, char hex[65])
{
  unsigned char md[32];
  size_t len = 0;
  if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, strlen(key),
                 (const unsigned char *)msg, strlen(msg), md, sizeof md, &len))
    return -1;
  for (size_t i = 0; i < len; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  return 0;
}

#ifndef FLOOR_NO_CURL
static size_t write_body(char *data, size_t size, size_t n, void *out)
{
  return fwrite(data, size, n, out);
}

static int get(const char *base, const char *cafile, const char *key, const char *secret)
{
  struct timeval tv;
  char query[64], sig[65], url[1024], header[256];
  gettimeofday(&tv, NULL);
  snprintf(query, sizeof query, "timestamp=%lld", (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000);
  if (hmac_hex(secret, query, sig) != 0)
    return 1;
  snprintf(url, sizeof url, "%s/v2/token/generate?%s&signature=%s", base, query, sig);
  snprintf(header, sizeof header, "X-BH-APIKEY: %s", key);

  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL *c = curl_easy_init();
  struct curl_slist *headers = curl_slist_append(NULL, header);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, stdout);
  if (cafile)
    curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  curl_global_cleanup();
  if (rc != CURLE_OK) {
    fprintf(stderr, "floor: %s\n", curl_easy_strerror(rc));
    return 1;
  }
  return status == 200 ? 0 : 1;
}
#endif

int main(int argc, char **argv)
{
  const char *key = getenv("VELAFI_API_KEY"), *secret = getenv("VELAFI_API_SECRET");
  if (!key || !secret) {
    fprintf(stderr, "floor: VELAFI_API_KEY and VELAFI_API_SECRET must be set\n");
    return 64;
  }
  if (argc == 2 && strcmp(argv[1], "hmac") == 0) {
    char hex[65];
    if (hmac_hex(secret, "timestamp=0", hex) != 0)
      return 1;
    puts(hex);
    return 0;
  }
#ifndef FLOOR_NO_CURL
  if ((argc == 3 || argc == 4) && strcmp(argv[1], "get") == 0)
    return get(argv[2], argc == 4 ? argv[3] : NULL, key, secret);
#endif
  fprintf(stderr, "usage: floor hmac | floor get BASE [CAFILE]\n");
  return 64;
}
