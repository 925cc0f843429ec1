"""full-text search: messages, customers and orders (SQLite FTS5, PostgreSQL tsvector)

SQLite: three FTS5 tables (``unicode61 remove_diacritics 2``, prefixes of 2 and 3 letters for
type-ahead) with their own copy of the words, kept current by triggers (a delete by rowid
needs no old values, so no update can leave the index out of step); messages are stemmed with
``porter`` (English endings; French plurals fall to the same stem). PostgreSQL:
``messages.search_vector`` (French and English configurations over unaccented words, the
conversation's subject included) kept by triggers, a GIN index on it, GIN expression indexes
on customers' names, identities (E.164 and national numbers) and orders. Existing rows are
indexed here.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORDS = "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'"
STEMMED = "tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3'"
MESSAGE_ROW = (
    "INSERT INTO search_messages(rowid, text, subject) SELECT m.id, m.text, "
    "coalesce(c.subject, '') FROM messages m JOIN conversations c ON c.id = m.conversation_id"
)
CUSTOMER_ROW = (
    "INSERT INTO search_customers(rowid, name, identities) SELECT c.id, coalesce(c.name, ''), "
    "coalesce((SELECT group_concat(i.value || ' ' || coalesce(i.display_name, '') || "
    "CASE WHEN i.value LIKE '+33%' THEN ' 0' || substr(i.value, 4) ELSE '' END, ' ') "
    "FROM identities i WHERE i.customer_id = c.id), '') FROM customers c"
)
ORDER_ROW = (
    "INSERT INTO search_orders(rowid, number, items) SELECT o.id, o.number, "
    "coalesce((SELECT group_concat(coalesce(json_extract(e.value, '$.name'), '') || ' ' || "
    "coalesce(json_extract(e.value, '$.sku'), ''), ' ') FROM json_each(o.items) e), '') "
    "FROM orders o"
)


def _refresh_customer(customer: str) -> str:
    return (
        f"DELETE FROM search_customers WHERE rowid = {customer}; "
        f"{CUSTOMER_ROW} WHERE c.id = {customer};"
    )


SQLITE_UPGRADE = (
    f"CREATE VIRTUAL TABLE search_messages USING fts5(text, subject, {STEMMED})",
    f"CREATE VIRTUAL TABLE search_customers USING fts5(name, identities, {WORDS})",
    f"CREATE VIRTUAL TABLE search_orders USING fts5(number, items, {WORDS})",
    "CREATE TRIGGER search_messages_insert AFTER INSERT ON messages BEGIN "
    f"{MESSAGE_ROW} WHERE m.id = NEW.id; END",
    "CREATE TRIGGER search_messages_update AFTER UPDATE OF text, conversation_id ON messages "
    "BEGIN DELETE FROM search_messages WHERE rowid = OLD.id; "
    f"{MESSAGE_ROW} WHERE m.id = NEW.id; END",
    "CREATE TRIGGER search_messages_delete AFTER DELETE ON messages BEGIN "
    "DELETE FROM search_messages WHERE rowid = OLD.id; END",
    "CREATE TRIGGER search_subjects_update AFTER UPDATE OF subject ON conversations "
    "WHEN OLD.subject IS NOT NEW.subject BEGIN "
    "UPDATE search_messages SET subject = coalesce(NEW.subject, '') WHERE rowid IN "
    "(SELECT id FROM messages WHERE conversation_id = NEW.id); END",
    "CREATE TRIGGER search_customers_insert AFTER INSERT ON customers BEGIN "
    f"{_refresh_customer('NEW.id')} END",
    "CREATE TRIGGER search_customers_update AFTER UPDATE OF name ON customers BEGIN "
    f"{_refresh_customer('NEW.id')} END",
    "CREATE TRIGGER search_customers_delete AFTER DELETE ON customers BEGIN "
    "DELETE FROM search_customers WHERE rowid = OLD.id; END",
    "CREATE TRIGGER search_identities_insert AFTER INSERT ON identities BEGIN "
    f"{_refresh_customer('NEW.customer_id')} END",
    "CREATE TRIGGER search_identities_update AFTER UPDATE ON identities BEGIN "
    f"{_refresh_customer('OLD.customer_id')} {_refresh_customer('NEW.customer_id')} END",
    "CREATE TRIGGER search_identities_delete AFTER DELETE ON identities BEGIN "
    f"{_refresh_customer('OLD.customer_id')} END",
    f"CREATE TRIGGER search_orders_insert AFTER INSERT ON orders BEGIN {ORDER_ROW} "
    "WHERE o.id = NEW.id; END",
    "CREATE TRIGGER search_orders_update AFTER UPDATE OF number, items ON orders BEGIN "
    f"DELETE FROM search_orders WHERE rowid = OLD.id; {ORDER_ROW} WHERE o.id = NEW.id; END",
    "CREATE TRIGGER search_orders_delete AFTER DELETE ON orders BEGIN "
    "DELETE FROM search_orders WHERE rowid = OLD.id; END",
    MESSAGE_ROW,
    CUSTOMER_ROW,
    ORDER_ROW,
)
SQLITE_DOWNGRADE = tuple(
    f"DROP TRIGGER {name}"
    for name in (
        "search_messages_insert",
        "search_messages_update",
        "search_messages_delete",
        "search_subjects_update",
        "search_customers_insert",
        "search_customers_update",
        "search_customers_delete",
        "search_identities_insert",
        "search_identities_update",
        "search_identities_delete",
        "search_orders_insert",
        "search_orders_update",
        "search_orders_delete",
    )
) + tuple(f"DROP TABLE {name}" for name in ("search_messages", "search_customers", "search_orders"))

# Three text search configurations that drop accents first (unaccent as a filtering
# dictionary), so that the index, the query and ts_headline all read « reclamation » alike.
# Punctuation is a space before parsing (filrouge_spaced): « ML-2026-1 », « 12.50 » and
# « jean.dupont@exemple.fr » are words, as the search box splits them (PostgreSQL's parser
# would read « -2026 » as a signed number and an address as one token).
CONFIGURATIONS = ("filrouge_french", "filrouge_english", "filrouge_simple")
WORD_TOKENS = "asciiword, word, hword, hword_part, hword_asciipart, asciihword"


def _configuration(name: str, source: str, dictionary: str) -> tuple[str, ...]:
    return (
        f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = pg_catalog.{source})",
        f"ALTER TEXT SEARCH CONFIGURATION {name} ALTER MAPPING FOR {WORD_TOKENS} "
        f"WITH public.unaccent, {dictionary}",
    )


POSTGRESQL_UPGRADE = (
    "CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public",
    *_configuration("filrouge_french", "french", "french_stem"),
    *_configuration("filrouge_english", "english", "english_stem"),
    *_configuration("filrouge_simple", "simple", "simple"),
    "CREATE FUNCTION filrouge_spaced(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE "
    "AS $$ SELECT regexp_replace(coalesce($1, ''), '[[:punct:]]+', ' ', 'g') $$",
    "CREATE FUNCTION filrouge_words(text) RETURNS tsvector LANGUAGE sql IMMUTABLE "
    "PARALLEL SAFE AS $$ SELECT to_tsvector('public.filrouge_french'::regconfig, "
    "filrouge_spaced($1)) || to_tsvector('public.filrouge_english'::regconfig, "
    "filrouge_spaced($1)) $$",
    "CREATE FUNCTION filrouge_names(text) RETURNS tsvector LANGUAGE sql IMMUTABLE "
    "PARALLEL SAFE AS $$ SELECT to_tsvector('public.filrouge_simple'::regconfig, "
    "filrouge_spaced($1)) $$",
    "CREATE FUNCTION filrouge_identity_words(text) RETURNS tsvector LANGUAGE sql IMMUTABLE "
    "PARALLEL SAFE AS $$ SELECT filrouge_names($1 || CASE WHEN $1 LIKE '+33%' "
    "THEN ' 0' || substr($1, 4) ELSE '' END) $$",
    "CREATE FUNCTION filrouge_order_text(text, jsonb) RETURNS text LANGUAGE sql IMMUTABLE "
    "PARALLEL SAFE AS $$ SELECT $1 || ' ' || coalesce((SELECT string_agg(coalesce(e ->> 'name', "
    "'') || ' ' || coalesce(e ->> 'sku', ''), ' ') FROM jsonb_array_elements(CASE WHEN "
    "jsonb_typeof($2) = 'array' THEN $2 ELSE '[]'::jsonb END) e), '') $$",
    "ALTER TABLE messages ADD COLUMN search_vector tsvector",
    "CREATE FUNCTION filrouge_message_vector() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "NEW.search_vector := filrouge_words(NEW.text) || setweight(filrouge_words((SELECT subject "
    "FROM conversations WHERE id = NEW.conversation_id)), 'B'); RETURN NEW; END $$",
    "CREATE TRIGGER search_messages_vector BEFORE INSERT OR UPDATE OF text, conversation_id "
    "ON messages FOR EACH ROW EXECUTE FUNCTION filrouge_message_vector()",
    "CREATE FUNCTION filrouge_subject_vectors() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "UPDATE messages SET search_vector = filrouge_words(text) || "
    "setweight(filrouge_words(NEW.subject), 'B') WHERE conversation_id = NEW.id; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER search_subjects_update AFTER UPDATE OF subject ON conversations "
    "FOR EACH ROW WHEN (OLD.subject IS DISTINCT FROM NEW.subject) "
    "EXECUTE FUNCTION filrouge_subject_vectors()",
    "UPDATE messages m SET search_vector = filrouge_words(m.text) || setweight(filrouge_words("
    "c.subject), 'B') FROM conversations c WHERE c.id = m.conversation_id",
    "CREATE INDEX ix_messages_search ON messages USING gin (search_vector)",
    "CREATE INDEX ix_customers_search ON customers USING gin (filrouge_names(name))",
    "CREATE INDEX ix_identities_search ON identities USING gin (filrouge_identity_words(value))",
    "CREATE INDEX ix_orders_search ON orders USING gin "
    "(filrouge_names(filrouge_order_text(number, items)))",
)
POSTGRESQL_DOWNGRADE = (
    "DROP INDEX ix_orders_search",
    "DROP INDEX ix_identities_search",
    "DROP INDEX ix_customers_search",
    "DROP TRIGGER search_subjects_update ON conversations",
    "DROP TRIGGER search_messages_vector ON messages",
    "DROP FUNCTION filrouge_subject_vectors()",
    "DROP FUNCTION filrouge_message_vector()",
    "ALTER TABLE messages DROP COLUMN search_vector",
    "DROP FUNCTION filrouge_order_text(text, jsonb)",
    "DROP FUNCTION filrouge_identity_words(text)",
    "DROP FUNCTION filrouge_names(text)",
    "DROP FUNCTION filrouge_words(text)",
    "DROP FUNCTION filrouge_spaced(text)",
    *(f"DROP TEXT SEARCH CONFIGURATION {name}" for name in CONFIGURATIONS),
)


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    for statement in POSTGRESQL_UPGRADE if _is_postgresql() else SQLITE_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in POSTGRESQL_DOWNGRADE if _is_postgresql() else SQLITE_DOWNGRADE:
        op.execute(statement)
