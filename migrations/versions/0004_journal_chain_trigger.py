"""chain journal entries at commit in PostgreSQL

On PostgreSQL an entry is inserted during the transaction with a temporary negative sequence number and a
body whose prev and seq are placeholders; a deferred constraint trigger chains it inside COMMIT itself, so
the head row is locked only for the trigger and the commit's WAL flush, with no round trip to the client
in between. docs/formats.md is unchanged: the chained body is byte for byte what the Python path makes.

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

PLACEHOLDER = '"prev":"' + 'P' * 64 + '","seq":0,'


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite's write transactions are exclusive: the application chains there
    run = op.get_bind().exec_driver_sql  # verbatim: the function's text holds colons
    run("CREATE SEQUENCE journal_pending_seq")
    run(f"""
CREATE FUNCTION journal_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  head_seq integer;
  head_hash varchar(64);
  chained text;
  digest varchar(64);
BEGIN
  SELECT seq, hash INTO head_seq, head_hash FROM journal_head WHERE id = 1 FOR UPDATE;
  head_seq := head_seq + 1;
  IF position('{PLACEHOLDER}' IN NEW.body) = 0 THEN
    RAISE EXCEPTION 'journal entry %% has no chaining placeholder', NEW.seq;  -- %% : the driver's escape
  END IF;
  chained := replace(NEW.body, '{PLACEHOLDER}', '"prev":"' || head_hash || '","seq":' || head_seq || ',');
  digest := encode(sha256(convert_to(chained, 'UTF8')), 'hex');
  UPDATE journal_entry SET seq = head_seq, body = chained, prev_hash = head_hash, hash = digest
   WHERE seq = NEW.seq;
  UPDATE journal_head SET seq = head_seq, hash = digest WHERE id = 1;
  RETURN NULL;
END
$$""")
    run("""
CREATE CONSTRAINT TRIGGER journal_chain AFTER INSERT ON journal_entry
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.seq < 0) EXECUTE FUNCTION journal_chain()""")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER journal_chain ON journal_entry")
    op.execute("DROP FUNCTION journal_chain()")
    op.execute("DROP SEQUENCE journal_pending_seq")
