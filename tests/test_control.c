/* The control message: decoder accept/reject cases and the encoder. */
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "check.h"

static const char *why;

static int decode(const char *s, control_msg_t *m)
{
    return control_decode(s, strlen(s), m, &why);
}

static int nothing_set(const control_msg_t *m)
{
    return !m->has_request_id && !m->has_camera && !m->has_limit && !m->has_since;
}

static void test_accept(void)
{
    control_msg_t m;

    CHECK(control_decode(NULL, 0, &m, &why) == 0 && nothing_set(&m) && why == NULL);
    CHECK(decode("{}", &m) == 0 && nothing_set(&m));
    CHECK(decode(" \t\r\n{ \n } \r\n", &m) == 0 && nothing_set(&m));

    CHECK(decode("{\"request_id\":\"r1\",\"camera\":\"cam-1\"}", &m) == 0);
    CHECK(m.has_request_id && strcmp(m.request_id, "r1") == 0);
    CHECK(m.has_camera && strcmp(m.camera, "cam-1") == 0 && !m.has_limit && !m.has_since);

    CHECK(decode("{ \"camera\" : \"c\" , \"limit\" : 1000000 , \"since\" : "
                 "\"2026-11-28T06:44:29.5Z\" }",
                 &m) == 0);
    CHECK(m.has_limit && m.limit == 1000000 && m.has_since);
    CHECK(strcmp(m.since, "2026-11-28T06:44:29.5Z") == 0 && m.since_t.sec == 1795848269);
    CHECK(decode("{\"limit\":1}", &m) == 0 && m.limit == 1);

    /* Escapes are decoded in keys and values alike. */
    CHECK(decode("{\"c\\u0061mera\":\"\\u0041b\\/c\"}", &m) == -1); /* '/': no id char */
    CHECK(decode("{\"c\\u0061mera\":\"\\u0041b\"}", &m) == 0 && strcmp(m.camera, "Ab") == 0);

    /* Unknown members of any shape are skipped. */
    CHECK(decode("{\"x\":1,\"y\":\"a\\\"b\\\\c\\u00e9\\ud83d\\ude00 \xc3\xa9 \xf0\x9f\x98\x80\","
                 "\"z\":[1,2,{\"a\":[true,false,null]},[]],\"w\":{\"k\":{}},\"n\":-1.5e+3,"
                 "\"e\":0,\"f\":0.25E-2,\"camera\":\"c\",\"CAMERA\":5}",
                 &m) == 0);
    CHECK(m.has_camera && strcmp(m.camera, "c") == 0 && !m.has_limit);
    CHECK(decode("{\"x\":[ ],\"y\":{ },\"z\":[ 1 , { \"a\" : 2 } ]}", &m) == 0 && nothing_set(&m));
}

static void test_depth(void)
{
    char s[256];
    control_msg_t m;
    int n;

    /* 32 levels inside an ignored member are fine, 33 are not. */
    n = snprintf(s, sizeof s, "{\"x\":");
    for (int i = 0; i < 32; i++)
        s[n++] = '[';
    for (int i = 0; i < 32; i++)
        s[n++] = ']';
    strcpy(s + n, ",\"camera\":\"c\"}");
    CHECK(decode(s, &m) == 0 && m.has_camera);

    n = snprintf(s, sizeof s, "{\"x\":");
    for (int i = 0; i < 33; i++)
        s[n++] = '[';
    for (int i = 0; i < 33; i++)
        s[n++] = ']';
    strcpy(s + n, "}");
    CHECK(decode(s, &m) == -1 && strcmp(why, "control message nested too deep") == 0);
    CHECK(nothing_set(&m));

    n = snprintf(s, sizeof s, "{\"x\":");
    for (int i = 0; i < 32; i++)
        n += snprintf(s + n, sizeof s - n, "{\"k\":");
    s[n++] = '1';
    for (int i = 0; i < 32; i++)
        s[n++] = '}';
    strcpy(s + n, "}");
    CHECK(decode(s, &m) == 0);
}

static void test_bad_members(void)
{
    static const struct {
        const char *body, *why;
    } bad[] = {
        {"{\"camera\":5}", "bad camera in control message"},
        {"{\"camera\":\"\"}", "bad camera in control message"},
        {"{\"camera\":\"a b\"}", "bad camera in control message"},
        {"{\"camera\":null}", "bad camera in control message"},
        {"{\"camera\":{\"a\":\"b\"}}", "bad camera in control message"},
        {"{\"camera\":[\"b\"]}", "bad camera in control message"},
        {"{\"camera\":\"\\u00e9\"}", "bad camera in control message"},
        {"{\"camera\":\"a\\u0000\"}", "bad camera in control message"},
        {"{\"camera\":\"a\",\"camera\":\"a\"}", "repeated member camera"},
        {"{\"request_id\":\"r/1\"}", "bad request_id in control message"},
        {"{\"request_id\":1}", "bad request_id in control message"},
        {"{\"limit\":0}", "bad limit in control message"},
        {"{\"limit\":1000001}", "bad limit in control message"},
        {"{\"limit\":1.0}", "bad limit in control message"},
        {"{\"limit\":1e2}", "bad limit in control message"},
        {"{\"limit\":-1}", "bad limit in control message"},
        {"{\"limit\":\"5\"}", "bad limit in control message"},
        {"{\"limit\":true}", "bad limit in control message"},
        {"{\"limit\":99999999999999999999999999}", "bad limit in control message"},
        {"{\"limit\":1,\"limit\":1}", "repeated member limit"},
        {"{\"since\":\"yesterday\"}", "bad since in control message"},
        {"{\"since\":\"2025-02-29T00:00:00Z\"}", "bad since in control message"},
        {"{\"since\":1}", "bad since in control message"},
    };
    control_msg_t m;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = decode(bad[i].body, &m);
        CHECK(rc == -1 && why != NULL && strcmp(why, bad[i].why) == 0 && nothing_set(&m));
        if (rc != -1 || why == NULL || strcmp(why, bad[i].why) != 0)
            fprintf(stderr, "  %s -> %d %s\n", bad[i].body, rc, why ? why : "(null)");
    }
    /* 65-byte id, and a since longer than SINCE_MAX. */
    char s[600];
    snprintf(s, sizeof s, "{\"camera\":\"%065d\"}", 1);
    CHECK(decode(s, &m) == -1);
    snprintf(s, sizeof s, "{\"camera\":\"%064d\"}", 1);
    CHECK(decode(s, &m) == 0 && strlen(m.camera) == 64);
    int n = snprintf(s, sizeof s, "{\"since\":\"2026-11-28T06:44:29.");
    memset(s + n, '1', 300);
    strcpy(s + n + 300, "Z\"}");
    CHECK(decode(s, &m) == -1 && strcmp(why, "bad since in control message") == 0);
}

static void test_malformed(void)
{
    static const char *const bad[] = {
        " ",
        "{",
        "}",
        "[]",
        "\"x\"",
        "null",
        "{\"camera\":\"a\"",
        "{\"camera\":\"a\",}",
        "{,}",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":.5}",
        "{\"a\":+1}",
        "{\"a\":1e}",
        "{\"a\":tru}",
        "{\"a\":True}",
        "{\"a\":\"\x01\"}",
        "{\"a\":\"\t\"}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\udc00\"}",
        "{\"a\":\"\\ud800\\u0041\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\q\"}",
        "{\"a\":\"\xc3\x28\"}",
        "{\"a\":\"\xc0\xaf\"}",
        "{\"a\":\"\xed\xa0\x80\"}",
        "{\"a\":\"\xf4\x90\x80\x80\"}",
        "{\"a\":\"\xff\"}",
        "{} x",
        "{}{}",
        "{'a':1}",
        "{a:1}",
        "{\"a\":[1,]}",
        "{\"a\":[1 2]}",
        "{\"a\":{\"b\"}}",
        "{\"a\":{\"b\":1,}}",
        "{\"a\" 1}",
        "{\"a\":[}",
        "{\"a\":{]}",
        "{\"a\":[[[[",
        "{\"a\":1}}",
        "{\"a\":\"x}",
    };
    control_msg_t m;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = decode(bad[i], &m);
        CHECK(rc == -1 && why != NULL);
        if (rc != -1)
            fprintf(stderr, "  accepted: %s\n", bad[i]);
    }
    /* A NUL byte inside the body. */
    CHECK(control_decode("{\"a\":\"\0\"}", 8, &m, &why) == -1);
    CHECK(control_decode("{}\0", 3, &m, &why) == -1);
}

static void test_encode(void)
{
    control_msg_t m = {0}, back;
    buf_t b = BUF_INIT;

    strcpy(m.request_id, "r1");
    strcpy(m.camera, "cam");
    control_encode(&b, &m);
    CHECK(strcmp(b.data, "{\"request_id\":\"r1\",\"camera\":\"cam\"}") == 0);

    m.has_limit = true;
    m.limit = 5;
    m.has_since = true;
    strcpy(m.since, "2026-11-28T06:44:29Z");
    buf_reset(&b);
    control_encode(&b, &m);
    CHECK(strcmp(b.data, "{\"request_id\":\"r1\",\"camera\":\"cam\",\"limit\":5,"
                         "\"since\":\"2026-11-28T06:44:29Z\"}") == 0);
    CHECK(control_decode(b.data, b.len, &back, &why) == 0);
    CHECK(back.has_request_id && back.has_camera && back.has_limit && back.has_since);
    CHECK(strcmp(back.request_id, "r1") == 0 && strcmp(back.camera, "cam") == 0);
    CHECK(back.limit == 5 && strcmp(back.since, m.since) == 0);
    m.has_after = m.has_follow = true;
    strcpy(m.after_epoch, "ep0ch");
    m.after_seq = 12;
    m.follow = 25;
    buf_reset(&b);
    control_encode(&b, &m);
    CHECK(control_decode(b.data, b.len, &back, &why) == 0 && back.has_after &&
              strcmp(back.after_epoch, "ep0ch") == 0 && back.after_seq == 12 && back.has_follow &&
              back.follow == 25,
          "%s", b.data);
    buf_free(&b);
}

/* 1.2: after and follow. A bad one leaves the message good, unset, flagged. */
static void test_after_follow(void)
{
    control_msg_t m;
    static const char *const bad_after[] = {"5",
                                            "\"\"",
                                            "\"abc\"",
                                            "\"abc:\"",
                                            "\":5\"",
                                            "\"a:05\"",
                                            "\"a:-1\"",
                                            "\"a:1.0\"",
                                            "\"a b:1\"",
                                            "\"a:1:2\"",
                                            "\"a:1 \"",
                                            "\"\\u00e9:1\"",
                                            "\"a:9007199254740992\"",
                                            "\"a:99999999999999999999\"",
                                            "null",
                                            "\"a:1x\""};
    char s[256], epoch65[66];

    CHECK(decode("{\"request_id\":\"r\",\"after\":\"3fa9c1d2e4b5a6f7:41\",\"follow\":25}", &m) ==
          0);
    CHECK(m.has_after && !m.after_bad && strcmp(m.after_epoch, "3fa9c1d2e4b5a6f7") == 0 &&
          m.after_seq == 41 && m.has_follow && m.follow == 25);
    CHECK(decode("{\"after\":\"a.B_-9:0\"}", &m) == 0 && m.has_after && m.after_seq == 0 &&
          strcmp(m.after_epoch, "a.B_-9") == 0 && !m.has_follow);
    CHECK(decode("{\"\\u0061fter\":\"\\u0065:9007199254740991\"}", &m) == 0 && m.has_after &&
          m.after_seq == 9007199254740991ULL && strcmp(m.after_epoch, "e") == 0);
    memset(epoch65, 'e', 65);
    epoch65[65] = '\0';
    snprintf(s, sizeof s, "{\"after\":\"%.64s:7\"}", epoch65);
    CHECK(decode(s, &m) == 0 && m.has_after && strlen(m.after_epoch) == 64);
    snprintf(s, sizeof s, "{\"after\":\"%s:7\"}", epoch65);
    CHECK(decode(s, &m) == 0 && !m.has_after && m.after_bad, "65-byte epoch");
    for (size_t i = 0; i < sizeof(bad_after) / sizeof(bad_after[0]); i++) {
        snprintf(s, sizeof s, "{\"request_id\":\"r\",\"after\":%s}", bad_after[i]);
        CHECK(decode(s, &m) == 0 && m.has_request_id && !m.has_after && m.after_bad, "%s", s);
    }
    CHECK(decode("{\"after\":\"a:1\",\"after\":\"a:2\"}", &m) == -1 &&
          strcmp(why, "repeated member after") == 0);
    static const char *const bad_follow[] = {"0", "61", "1.5", "\"5\"", "-1", "1e1"};
    for (size_t i = 0; i < sizeof(bad_follow) / sizeof(bad_follow[0]); i++) {
        snprintf(s, sizeof s, "{\"follow\":%s}", bad_follow[i]);
        CHECK(decode(s, &m) == 0 && !m.has_follow && m.follow_bad, "%s", s);
    }
    CHECK(decode("{\"follow\":60}", &m) == 0 && m.has_follow && m.follow == 60);
}

static void test_error_reply(void)
{
    char out[32];
    static const char big[] = "{\"error\":\"0123456789012345678901234567890123456789\"}";

    const char *one = "{\"error\":\"camera not connected\",\"camera\":\"c1\"}";
    CHECK(control_decode_error(one, strlen(one), out, sizeof(out)) == 0 &&
          strcmp(out, "camera not connected") == 0);
    /* Other members, whatever their types; the first "error" wins. */
    const char *two = "{\"line\":3,\"offset\":-1.5e3,\"x\":[{}],\"error\":\"a\\u00e9\\n\\\"\","
                      "\"error\":\"b\"}";
    CHECK(control_decode_error(two, strlen(two), out, sizeof(out)) == 0 &&
              strcmp(out, "a\xff\n\"") == 0,
          "%s", out);
    CHECK(control_decode_error(big, strlen(big), out, sizeof(out)) == 0 && strlen(out) == 31);
    CHECK(control_decode_error(big, strlen(big), out, 1) == 0 && out[0] == '\0');
    static const char *const none[] = {"",
                                       "{}",
                                       "{\"error\":5}",
                                       "{\"Error\":\"x\"}",
                                       "[\"error\"]",
                                       "{\"error\":\"x\"",
                                       "{\"error\":\"x\"}}",
                                       "Not Found",
                                       "{\"error\":\"\xc3\x28\"}"};
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        strcpy(out, "junk");
        CHECK(control_decode_error(none[i], strlen(none[i]), out, sizeof(out)) == -1 &&
                  out[0] == '\0',
              "%s", none[i]);
    }
    /* The control message's own rules do not apply to an error reply. */
    const char *odd = "{\"request_id\":\"bad id!\",\"limit\":0,\"error\":\"no\"}";
    CHECK(control_decode_error(odd, strlen(odd), out, sizeof(out)) == 0 && strcmp(out, "no") == 0);
}

int main(void)
{
    test_accept();
    test_depth();
    test_bad_members();
    test_malformed();
    test_encode();
    test_after_follow();
    test_error_reply();
    return check_report();
}
