#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <openssl/bio.h>

// OpenSSL spells several calls as macros over SSL_ctrl/BIO_set_flags; Swift cannot call
// macros, so these inline wrappers do it for TributaryTLS.
static inline long tributary_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}

static inline long tributary_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}

static inline long tributary_SSL_set_partial_moving_writes(SSL *ssl) {
    return SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

static inline void tributary_BIO_set_retry_read(BIO *bio) { BIO_set_retry_read(bio); }
static inline void tributary_BIO_set_retry_write(BIO *bio) { BIO_set_retry_write(bio); }
static inline void tributary_BIO_clear_retry_flags(BIO *bio) { BIO_clear_retry_flags(bio); }
static inline int tributary_ERR_GET_REASON(unsigned long error) { return ERR_GET_REASON(error); }
static inline int tributary_BIO_CTRL_FLUSH(void) { return BIO_CTRL_FLUSH; }
