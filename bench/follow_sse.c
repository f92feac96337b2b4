/* SSE subscribers for bench_follow: each one GETs its path, reads the
 * response head, undoes chunked framing byte by byte, splits the body into
 * lines and, per event, checks the marker's seq against the one it expects
 * and records now - the marker's send time. Test-side code: the api's own
 * bytes are read by its generated parsers, these are only the bench's. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "fleet.h"
#include "follow.h"

enum { ST_IDLE, ST_CONNECTING, ST_HEAD, ST_BODY, ST_DEAD };
enum { CK_SIZE, CK_EXT, CK_DATA, CK_DATA_END, CK_NONE };
enum { EV_MESSAGE = -1, EV_GAP, EV_OFFLINE, EV_ONLINE, EV_END, EV_OTHER };
#define LINE_CAP 480
#define HEAD_CAP 2048

typedef struct fs_conn {
    int fd;
    uint8_t state, chunk_state;
    int8_t ev_type;  /* of the event being read */
    bool long_line;  /* the line being read overflowed: ignored */
    bool has_marker; /* the event being read carries a marker */
    uint16_t line_len, head_len;
    uint64_t chunk_left;
    uint64_t next; /* the seq expected next (1 first) */
    uint64_t m_seq, m_t;
    unsigned warm; /* newest warm-up generation seen */
    char *head;    /* the response head while it comes (ST_HEAD) */
    char line[LINE_CAP];
} fs_conn_t;

struct fs_set {
    int ep;
    struct sockaddr_in dst;
    const char *path_fmt;
    unsigned n, channels, started, headed, heading;
    bool recording;
    fs_conn_t *c;
    uint32_t *lat;
    size_t lat_n, lat_cap;
    fs_stats_t st;
};

fs_set_t *fs_new(int ep, const struct sockaddr_in *dst, const char *path_fmt, unsigned n,
                 unsigned channels)
{
    fs_set_t *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->c = calloc(n, sizeof(*s->c))) == NULL) {
        free(s);
        return NULL;
    }
    s->ep = ep;
    s->dst = *dst;
    s->path_fmt = path_fmt;
    s->n = n;
    s->channels = channels;
    for (unsigned i = 0; i < n; i++) {
        s->c[i].fd = -1;
        s->c[i].next = 1;
    }
    return s;
}

static void conn_close(fs_set_t *s, fs_conn_t *c, int state)
{
    if (c->fd >= 0)
        close(c->fd); /* leaves the epoll set with it */
    c->fd = -1;
    if (c->state == ST_CONNECTING || c->state == ST_HEAD)
        s->heading--;
    if (c->state == ST_BODY)
        s->headed--;
    free(c->head);
    c->head = NULL;
    c->state = (uint8_t)state;
}

static void start_one(fs_set_t *s, unsigned i)
{
    fs_conn_t *c = &s->c[i];
    c->fd = fh_connect(&s->dst, 0);
    if (c->fd < 0) {
        s->st.connect_errs++;
        c->state = ST_DEAD;
        return;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.u64 = i | FS_TAG};
    epoll_ctl(s->ep, EPOLL_CTL_ADD, c->fd, &ev);
    c->state = ST_CONNECTING;
    s->heading++;
}

unsigned fs_open(fs_set_t *s, unsigned upto, unsigned inflight)
{
    if (upto > s->n)
        upto = s->n;
    while (s->started < upto && s->heading < inflight)
        start_one(s, s->started++);
    return s->headed;
}

/* The marker in [p, e): "c=", "s=" and "t=", or "w=". */
static void parse_marker(fs_conn_t *c, const char *p, const char *e)
{
    const char *b = memmem(p, (size_t)(e - p), "bench c=", 8);
    if (b == NULL)
        return;
    const char *w = memmem(b, (size_t)(e - b), " w=", 3);
    if (w != NULL) {
        unsigned g = (unsigned)strtoul(w + 3, NULL, 10);
        if (g > c->warm)
            c->warm = g;
        return;
    }
    const char *sp = memmem(b, (size_t)(e - b), " s=", 3);
    const char *tp = memmem(b, (size_t)(e - b), " t=", 3);
    if (sp == NULL || tp == NULL)
        return;
    c->m_seq = strtoull(sp + 3, NULL, 10);
    c->m_t = strtoull(tp + 3, NULL, 10);
    c->has_marker = true;
}

static void lat_push(fs_set_t *s, uint64_t ns)
{
    if (s->lat_n == s->lat_cap) {
        size_t cap = s->lat_cap ? s->lat_cap * 2 : 1 << 16;
        uint32_t *l = realloc(s->lat, cap * sizeof(*l));
        if (l == NULL)
            return;
        s->lat = l;
        s->lat_cap = cap;
    }
    uint64_t us = ns / 1000;
    s->lat[s->lat_n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* A blank line: the event read so far is complete. */
static void dispatch(fs_set_t *s, fs_conn_t *c, uint64_t now)
{
    if (c->ev_type != EV_MESSAGE) {
        s->st.other[c->ev_type < EV_OTHER ? c->ev_type : EV_END]++;
    } else if (c->has_marker) {
        s->st.events++;
        if (c->m_seq == c->next) {
            c->next++;
        } else if (c->m_seq > c->next) {
            s->st.skipped += c->m_seq - c->next;
            c->next = c->m_seq + 1;
        } else {
            s->st.repeated++;
        }
        if (s->recording)
            lat_push(s, now > c->m_t ? now - c->m_t : 0);
    }
    c->ev_type = EV_MESSAGE;
    c->has_marker = false;
}

static void on_line(fs_set_t *s, fs_conn_t *c, uint64_t now)
{
    char *p = c->line, *e = p + c->line_len;
    if (e > p && e[-1] == '\r')
        e--;
    if (e == p) {
        dispatch(s, c, now);
    } else if (e - p > 5 && memcmp(p, "data:", 5) == 0) {
        parse_marker(c, p + 5, e);
    } else if (e - p > 6 && memcmp(p, "event:", 6) == 0) {
        p += p[6] == ' ' ? 7 : 6;
        static const char *names[] = {"gap", "offline", "online", "end"};
        c->ev_type = EV_OTHER;
        for (int i = 0; i < 4; i++)
            if ((size_t)(e - p) == strlen(names[i]) && memcmp(p, names[i], (size_t)(e - p)) == 0)
                c->ev_type = (int8_t)i;
    }
}

/* Body bytes (chunked framing already undone): complete lines go to on_line. */
static void sse_feed(fs_set_t *s, fs_conn_t *c, const char *p, size_t n, uint64_t now)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl != NULL ? (size_t)(nl - p) : n;
        if (c->line_len + take > LINE_CAP) {
            c->long_line = true;
        } else {
            memcpy(c->line + c->line_len, p, take);
            c->line_len = (uint16_t)(c->line_len + take);
        }
        if (nl == NULL)
            return;
        if (c->long_line)
            s->st.unparsed++;
        else
            on_line(s, c, now);
        c->line_len = 0;
        c->long_line = false;
        p = nl + 1;
        n -= take + 1;
    }
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = (char)(ch | 0x20);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Undoes chunked framing; 0, or -1 when the body ended or is broken. */
static int body_feed(fs_set_t *s, fs_conn_t *c, const char *p, size_t n, uint64_t now)
{
    if (c->chunk_state == CK_NONE) {
        sse_feed(s, c, p, n, now);
        return 0;
    }
    const char *e = p + n;
    while (p < e) {
        if (c->chunk_state == CK_DATA) {
            size_t k = (size_t)(e - p) < c->chunk_left ? (size_t)(e - p) : c->chunk_left;
            sse_feed(s, c, p, k, now);
            p += k;
            if ((c->chunk_left -= k) == 0)
                c->chunk_state = CK_DATA_END;
            continue;
        }
        char ch = *p++;
        if (c->chunk_state == CK_DATA_END) {
            if (ch == '\n')
                c->chunk_state = CK_SIZE;
        } else if (c->chunk_state == CK_SIZE && hexval(ch) >= 0) {
            c->chunk_left = c->chunk_left * 16 + (uint64_t)hexval(ch);
        } else if (ch == '\n') {
            if (c->chunk_left == 0)
                return -1; /* the last chunk: the stream ended */
            c->chunk_state = CK_DATA;
        } else {
            c->chunk_state = CK_EXT;
        }
    }
    return 0;
}

/* The response head in c->head: 200 and the framing, then its body bytes. */
static int head_done(fs_set_t *s, fs_conn_t *c, size_t len, uint64_t now)
{
    char *end = memmem(c->head, len, "\r\n\r\n", 4);
    if (end == NULL)
        return len >= HEAD_CAP - 1 ? -1 : 0;
    *end = 0;
    if (strncmp(c->head, "HTTP/1.1 200", 12) != 0) {
        s->st.refused++;
        return -1;
    }
    c->chunk_state = strcasestr(c->head, "\r\ntransfer-encoding: chunked") ? CK_SIZE : CK_NONE;
    c->ev_type = EV_MESSAGE;
    s->heading--;
    s->headed++;
    c->state = ST_BODY;
    char *rest = end + 4;
    size_t rest_n = len - (size_t)(rest - c->head);
    char *h = c->head;
    c->head = NULL;
    int rc = body_feed(s, c, rest, rest_n, now);
    free(h);
    return rc == 0 ? 1 : -1;
}

/* Reads what is there; the connection is closed (and counted) at its end. */
static void on_readable(fs_set_t *s, fs_conn_t *c, uint64_t now)
{
    static char buf[1 << 16];
    for (;;) {
        bool head = c->state == ST_HEAD;
        ssize_t got = head ? read(c->fd, c->head + c->head_len, HEAD_CAP - 1 - c->head_len)
                           : read(c->fd, buf, sizeof(buf));
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (got <= 0)
            break;
        if (head) {
            c->head_len = (uint16_t)(c->head_len + got);
            if (head_done(s, c, c->head_len, now) < 0)
                break;
        } else if (body_feed(s, c, buf, (size_t)got, now) != 0) {
            break;
        }
    }
    if (c->state == ST_BODY)
        s->st.closed++;
    else if (c->head == NULL || strncmp(c->head, "HTTP/1.1 ", 9) != 0)
        s->st.connect_errs++; /* (a refusal was counted by head_done) */
    conn_close(s, c, ST_DEAD);
}

void fs_event(fs_set_t *s, uint64_t data, uint32_t events, uint64_t now)
{
    fs_conn_t *c = &s->c[data & ~FS_TAG];
    if (c->fd < 0)
        return;
    if (c->state == ST_CONNECTING) {
        if (events & (EPOLLERR | EPOLLHUP)) {
            s->st.connect_errs++;
            conn_close(s, c, ST_DEAD);
            return;
        }
        char req[512];
        int n = snprintf(req, sizeof(req), "GET ");
        n += snprintf(req + n, sizeof(req) - (size_t)n, s->path_fmt,
                      (unsigned)((size_t)(c - s->c) % s->channels));
        n += snprintf(req + n, sizeof(req) - (size_t)n,
                      " HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n");
        if (write(c->fd, req, (size_t)n) != n || (c->head = calloc(1, HEAD_CAP)) == NULL) {
            s->st.connect_errs++;
            conn_close(s, c, ST_DEAD);
            return;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = data};
        epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->state = ST_HEAD;
        return;
    }
    on_readable(s, c, now);
}

unsigned fs_warm(const fs_set_t *s, unsigned upto, unsigned gen)
{
    unsigned k = 0;
    for (unsigned i = 0; i < upto && i < s->n; i++)
        k += s->c[i].state == ST_BODY && s->c[i].warm >= gen;
    return k;
}

unsigned fs_complete(const fs_set_t *s, unsigned upto, const uint64_t *published)
{
    unsigned k = 0;
    for (unsigned i = 0; i < upto && i < s->n; i++)
        k += s->c[i].next > published[i % s->channels];
    return k;
}

uint64_t fs_tail_lost(const fs_set_t *s, unsigned upto, const uint64_t *published)
{
    uint64_t lost = 0;
    for (unsigned i = 0; i < upto && i < s->n; i++) {
        uint64_t want = published[i % s->channels] + 1;
        lost += s->c[i].next < want ? want - s->c[i].next : 0;
    }
    return lost;
}

void fs_record(fs_set_t *s, bool on)
{
    s->recording = on;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

uint32_t *fs_latencies(fs_set_t *s, size_t *n)
{
    qsort(s->lat, s->lat_n, sizeof(*s->lat), cmp_u32);
    *n = s->lat_n;
    return s->lat;
}

const fs_stats_t *fs_stats(const fs_set_t *s)
{
    return &s->st;
}

unsigned fs_open_count(const fs_set_t *s)
{
    return s->headed;
}

void fs_free(fs_set_t *s)
{
    if (s == NULL)
        return;
    for (unsigned i = 0; i < s->n; i++)
        conn_close(s, &s->c[i], ST_DEAD);
    free(s->c);
    free(s->lat);
    free(s);
}
