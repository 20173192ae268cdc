/* num.c: decimal and big-endian numbers (num.h). */
#include "num.h"

int num_parse_dec(const uint8_t *p, size_t len, uint64_t *ret)
{
	uint64_t v = 0;
	if (len == 0 || len > 20 || (len > 1 && p[0] == '0'))
		return SM_EPARSE;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return SM_EPARSE;
		unsigned d = (unsigned)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return SM_EPARSE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

void num_put_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

uint64_t num_get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}
