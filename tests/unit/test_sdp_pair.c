/* SPDX-License-Identifier: ISC */
/*
 * A client engine and a server engine talking through the checking link of
 * test_sdp_util.c, driven at random: random configurations (credits from 3
 * to 255, a spare receive or not, message sizes from 128 bytes, queues
 * and send depths from 1), random PDU sizes up to MaxFragmentedSize,
 * random delivery order between the two directions, random completion and
 * release batches, random upper-layer stalls (blocked, holding every
 * buffer), and time that jumps now and then so idle timers fire and
 * keepalives cross the traffic.
 *
 * After every step the link has checked, from the headers alone, that no
 * credit rule was broken, that every grant is backed by a posted receive,
 * and that no queue went past its bound; every delivered byte is compared
 * with the byte sent. An episode ends when its quota of PDUs is through;
 * both engines must still be up and must have delivered everything.
 *
 * SDP_PAIR_PDUS sets the total (default 100000). The seed is new every run
 * (from the clock) and printed first; SDP_PAIR_SEED=N replays run N.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <string.h>

#include <cmocka.h>

#include "sdp.h"
#include "test_sdp_util.h"

static uint64_t rng_state;

static uint64_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Uniform in [lo, hi]. */
static uint64_t
rnd_range(uint64_t lo, uint64_t hi)
{
	return lo + rnd() % (hi - lo + 1);
}

static unsigned
pick(const unsigned *v, size_t n)
{
	return v[rnd() % n];
}

#define PICK(v)	pick((v), sizeof(v) / sizeof((v)[0]))

static void
random_config(struct sdp_config *c, enum sdp_role role)
{
	static const unsigned credit_max[] = { 3, 4, 5, 8, 16, 64, 255, 255 };
	static const unsigned target[] = { 1, 2, 5, 32, 255, 255 };
	static const unsigned send[] = { 128, 200, 1364, 1364, 4096, 8192 };
	static const unsigned recv[] = { 128, 1364, 1364, 8192 };
	static const unsigned frag[] = { 131072, 262144, 1u << 20 };
	static const unsigned queue[] = { 1, 2, 8, 64 };
	static const unsigned depth[] = { 1, 2, 16, 64 };
	static const unsigned ka[] = { 0, 50, 500 };

	sdp_config_init_defaults(c, role);
	c->recv_credit_max = (uint16_t)PICK(credit_max);
	/*
	 * The daemon's server keeps a spare receive (half the servers here),
	 * a client may (a quarter). With one, recv_credit_max 4 is the
	 * tightest: 3 grantable receives, as 3 is without.
	 */
	c->recv_spare = rnd() % (role == SDP_ROLE_SERVER ? 2 : 4) == 0 ?
	    1 : 0;
	if (c->recv_credit_max - c->recv_spare < 3) {
		c->recv_credit_max++;
	}
	c->recv_credit_initial = (uint16_t)rnd_range(1, c->recv_credit_max);
	c->send_credit_target = (uint16_t)PICK(target);
	c->max_send_size = PICK(send);
	c->max_receive_size = PICK(recv);
	c->max_fragmented_size = PICK(frag);
	c->send_queue_max = PICK(queue);
	c->max_outstanding_sends = PICK(depth);
	c->keepalive_interval_ms = PICK(ka);
	/* Far above the longest stall: a live pair must never time out. */
	c->keepalive_timeout_ms = 60000;
	c->negotiate_timeout_ms = 10000;
	assert_int_equal(sdp_config_validate(c), 0);
}

/* Mostly small PDUs, some large, a few up to the peer's limit. */
static size_t
random_pdu_size(const struct tside *s)
{
	size_t payload = s->params.max_send_size - SDP_DATA_OFFSET;
	size_t max = s->params.peer_max_fragmented_size;
	uint64_t r = rnd() % 100;
	size_t n;

	/* Bound the message count of one PDU so small sizes stay quick. */
	if (max > payload * 512) {
		max = payload * 512;
	}
	if (r < 60) {
		n = rnd_range(1, 512);
	} else if (r < 85) {
		n = rnd_range(513, 8192);
	} else if (r < 98) {
		n = rnd_range(8193, 65536);
	} else {
		n = rnd_range(65537, max > 65537 ? max : 65537);
	}
	/* Land on fragment boundaries often. */
	if (rnd() % 8 == 0 && n > payload) {
		n = (n / payload) * payload + (size_t)rnd_range(0, 2) - 1;
	}
	return n > max ? max : n;
}

struct episode {
	uint64_t	quota[2];	/* PDUs each side sends */
	uint64_t	stall_until[2];	/* step; 0: not stalled */
	uint64_t	last_progress;
	uint64_t	delivered_before;
};

static void
stall_toggle(struct tlink *l, struct episode *e, int side)
{
	struct tside *s = &l->s[side];

	if (e->stall_until[side] == 0) {
		e->stall_until[side] = l->steps + rnd_range(1, 300);
		s->blocked = true;
		assert_int_equal(sdp_set_upper_blocked(s->conn, true, l->now),
		    0);
	} else if (l->steps >= e->stall_until[side]) {
		e->stall_until[side] = 0;
		s->blocked = false;
		assert_int_equal(sdp_set_upper_blocked(s->conn, false, l->now),
		    0);
	}
	tlink_drain(l, side);
}

static uint64_t
delivered(const struct tlink *l)
{
	return l->s[0].bytes_delivered + l->s[1].bytes_delivered +
	    l->s[0].pdus_delivered + l->s[1].pdus_delivered;
}

static void
dump(const struct tlink *l)
{
	int i;

	for (i = 0; i < 2; i++) {
		const struct tside *s = &l->s[i];
		struct sdp_stats st;

		sdp_get_stats(s->conn, &st);
		print_message("side %d: state %s credits %u posted %u held %u "
		    "peer %u window %u queued %u outstanding %u in-flight %u "
		    "due %u blocked %d submitted %llu delivered-here %llu\n",
		    i, sdp_state_name(sdp_get_state(s->conn)), st.send_credits,
		    st.recv_credits_posted, st.recv_held, st.peer_credits,
		    st.recv_window, st.queued_pdus, st.sends_outstanding,
		    s->out_count, s->completions_due, s->blocked,
		    (unsigned long long)s->pdus_submitted,
		    (unsigned long long)s->pdus_delivered);
	}
}

static void
step(struct tlink *l, struct episode *e)
{
	int side = (int)(rnd() & 1);
	struct tside *s = &l->s[side];
	uint64_t r = rnd() % 100;

	l->steps++;
	if (r < 30) {
		if (s->out_count > 0) {
			int rc = tlink_deliver(l, side);

			assert_true(rc == 0 || rc == 1);
		}
	} else if (r < 45) {
		if (s->completions_due > 0) {
			assert_int_equal(tlink_complete(l, side,
			    (unsigned)rnd_range(1, s->completions_due)), 0);
		}
	} else if (r < 60) {
		if (s->held > 0 && e->stall_until[side] == 0) {
			assert_int_equal(tlink_release(l, side,
			    (unsigned)rnd_range(1, s->held)), 0);
		}
	} else if (r < 85) {
		if (!s->wouldblock && s->pdus_submitted < e->quota[side]) {
			int rc = tlink_submit(l, side, random_pdu_size(s),
			    rnd() % 4 == 0 ? (uint32_t)rnd() | 1 : 0);

			assert_true(rc == 0 || rc == SDP_ERR_WOULDBLOCK);
		}
	} else if (r < 87) {
		if (e->stall_until[side] == 0 ? rnd() % 8 == 0 :
		    l->steps >= e->stall_until[side]) {
			stall_toggle(l, e, side);
		}
	} else if (r < 99) {
		tlink_advance(l, r < 95 ? 0 : 1);
	} else {
		/* Now and then a quiet spell long enough for keepalives. */
		tlink_advance(l, rnd() % 8 == 0 ? rnd_range(50, 500) : 2);
	}
	/* Stalls end on time even when their side is not picked. */
	for (side = 0; side < 2; side++) {
		if (e->stall_until[side] != 0 &&
		    l->steps >= e->stall_until[side]) {
			stall_toggle(l, e, side);
		}
	}
	assert_false(l->s[0].disconnected);
	assert_false(l->s[1].disconnected);
	if (delivered(l) != e->delivered_before) {
		e->delivered_before = delivered(l);
		e->last_progress = l->steps;
	}
	if (l->steps - e->last_progress > 200000) {
		dump(l);
		fail_msg("no progress for 200000 steps");
	}
}

static void
finish(struct tlink *l, struct episode *e)
{
	int i, rounds = 0;

	for (i = 0; i < 2; i++) {
		if (e->stall_until[i] != 0) {
			e->stall_until[i] = l->steps;
			stall_toggle(l, e, i);
		}
	}
	/* Settle, letting time pass for anything a timer holds back. */
	while (l->s[0].pdus_delivered < l->s[1].pdus_submitted ||
	    l->s[1].pdus_delivered < l->s[0].pdus_submitted) {
		tlink_settle(l);
		tlink_advance(l, 1);
		if (++rounds > 100000) {
			dump(l);
			fail_msg("the pair did not drain");
		}
	}
	tlink_settle(l);
	for (i = 0; i < 2; i++) {
		struct sdp_stats st;

		sdp_get_stats(l->s[i].conn, &st);
		assert_false(l->s[i].disconnected);
		assert_int_equal(st.queued_pdus, 0);
		assert_int_equal(st.pdus_received, l->s[i].pdus_delivered);
		assert_int_equal(st.pdus_sent, l->s[i].pdus_submitted);
		assert_int_equal(sdp_get_state(l->s[i].conn),
		    SDP_STATE_ESTABLISHED);
	}
}

static void
test_pair_random(void **state)
{
	const char *env = getenv("SDP_PAIR_PDUS");
	uint64_t total = env != NULL ? strtoull(env, NULL, 10) : 100000;
	uint64_t done = 0, episodes = 0, msgs = 0, bytes = 0, ka = 0;
	uint64_t waits = 0, steps = 0, spare = 0;

	env = getenv("SDP_PAIR_SEED");
	if (env != NULL) {
		rng_state = strtoull(env, NULL, 10);
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		rng_state = (uint64_t)ts.tv_sec * 1000000007u ^
		    (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32;
	}
	if (rng_state == 0) {
		rng_state = 1;
	}
	/* Printed before anything can fail: the seed replays the run. */
	print_message("seed %llu (replay: SDP_PAIR_SEED=%llu), %llu PDUs\n",
	    (unsigned long long)rng_state, (unsigned long long)rng_state,
	    (unsigned long long)total);
	while (done < total) {
		struct sdp_config cc, sc;
		struct episode e;
		struct tlink l;
		int i;

		random_config(&cc, SDP_ROLE_CLIENT);
		random_config(&sc, SDP_ROLE_SERVER);
		spare += sc.recv_spare;
		memset(&e, 0, sizeof(e));
		e.quota[0] = rnd_range(1, 6000);
		e.quota[1] = rnd_range(1, 6000);
		assert_int_equal(tlink_init(&l, &cc, &sc, NULL), 0);
		assert_int_equal(tlink_start(&l), 0);
		tlink_settle(&l);
		if (!l.s[0].negotiated || !l.s[1].negotiated) {
			dump(&l);
			fail_msg("negotiation failed: %s / %s",
			    sdp_error_name(l.s[0].disc_reason),
			    sdp_error_name(l.s[1].disc_reason));
		}
		while (l.s[0].pdus_submitted < e.quota[0] ||
		    l.s[1].pdus_submitted < e.quota[1]) {
			step(&l, &e);
		}
		finish(&l, &e);
		for (i = 0; i < 2; i++) {
			struct sdp_stats st;

			sdp_get_stats(l.s[i].conn, &st);
			done += l.s[i].pdus_delivered;
			msgs += st.msgs_sent;
			bytes += l.s[i].bytes_delivered;
			ka += st.keepalives_sent;
			waits += st.credit_waits;
		}
		steps += l.steps;
		episodes++;
		tlink_clear(&l);
	}
	print_message("%llu episodes (%llu with a spare on the server), "
	    "%llu PDUs, %llu bytes, %llu messages, %llu steps, "
	    "%llu keepalives, %llu credit waits\n",
	    (unsigned long long)episodes, (unsigned long long)spare,
	    (unsigned long long)done,
	    (unsigned long long)bytes, (unsigned long long)msgs,
	    (unsigned long long)steps, (unsigned long long)ka,
	    (unsigned long long)waits);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pair_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
