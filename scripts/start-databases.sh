#!/bin/sh
# start-databases.sh: install (if missing) and start PostgreSQL and MariaDB for
# ack's database tests on a Debian machine, as root, without systemd. Creates
# the user ack/ack and the database ack_test on both, waits until both accept
# connections, and prints the environment lines the tests read:
#
#   eval "$(scripts/start-databases.sh)"
#
# It is idempotent: running it again only starts what is stopped. Progress goes
# to stderr so that stdout holds nothing but the export lines.
set -eu

log() { echo "start-databases: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
	log "must run as root"
	exit 1
fi

need=""
command -v pg_ctlcluster >/dev/null 2>&1 || need="$need postgresql"
command -v mariadbd >/dev/null 2>&1 || command -v mysqld >/dev/null 2>&1 || need="$need mariadb-server"
if [ -n "$need" ]; then
	# apt-get update only when the package lists are missing or the install fails without it.
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >&2; then
		apt-get update -q >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >&2
	fi
fi

# wait_for CMD...: retry CMD for up to 60 seconds.
wait_for() {
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -ge 120 ]; then
			log "timed out waiting for: $*"
			return 1
		fi
		sleep 0.5
	done
}

# PostgreSQL: the first cluster Debian created (15/main on bookworm).
pg_version=$(pg_lsclusters -h | awk 'NR==1 {print $1}')
pg_cluster=$(pg_lsclusters -h | awk 'NR==1 {print $2}')
pg_port=$(pg_lsclusters -h | awk 'NR==1 {print $3}')
if [ -z "$pg_version" ]; then
	log "no PostgreSQL cluster found (pg_lsclusters is empty)"
	exit 1
fi
if ! pg_lsclusters -h | awk 'NR==1 {print $4}' | grep -q online; then
	log "starting PostgreSQL $pg_version/$pg_cluster"
	pg_ctlcluster "$pg_version" "$pg_cluster" start >&2
fi
wait_for su postgres -c "psql -p $pg_port -tAc 'select 1'"
su postgres -c "psql -p $pg_port -v ON_ERROR_STOP=1 -q" >&2 <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ack') THEN
    CREATE ROLE ack LOGIN PASSWORD 'ack' SUPERUSER;
  END IF;
END $$;
SQL
if ! su postgres -c "psql -p $pg_port -tAc \"select 1 from pg_database where datname = 'ack_test'\"" | grep -q 1; then
	su postgres -c "createdb -p $pg_port -O ack ack_test" >&2
fi
wait_for env PGPASSWORD=ack psql -h 127.0.0.1 -p "$pg_port" -U ack -d ack_test -tAc 'select 1'

# MariaDB: mysqld_safe in the background (no systemd here).
sock=/run/mysqld/mysqld.sock
if ! mysqladmin --socket="$sock" ping >/dev/null 2>&1; then
	log "starting MariaDB"
	mkdir -p /run/mysqld
	chown mysql:mysql /run/mysqld
	(cd / && nohup mysqld_safe --user=mysql >/dev/null 2>&1 &)
fi
wait_for mysqladmin --socket="$sock" ping
mysql --socket="$sock" -u root >&2 <<'SQL'
CREATE DATABASE IF NOT EXISTS ack_test;
CREATE USER IF NOT EXISTS 'ack'@'localhost' IDENTIFIED BY 'ack';
CREATE USER IF NOT EXISTS 'ack'@'127.0.0.1' IDENTIFIED BY 'ack';
GRANT ALL PRIVILEGES ON ack_test.* TO 'ack'@'localhost';
GRANT ALL PRIVILEGES ON ack_test.* TO 'ack'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
wait_for mysql -h 127.0.0.1 -P 3306 -u ack -pack ack_test -e 'select 1'

log "PostgreSQL and MariaDB are ready"
echo "export ACK_TEST_PG_DSN='postgres://ack:ack@127.0.0.1:$pg_port/ack_test?sslmode=disable'"
echo "export ACK_TEST_MYSQL_DSN='ack:ack@tcp(127.0.0.1:3306)/ack_test'"
