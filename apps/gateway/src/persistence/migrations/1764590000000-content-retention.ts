import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Content purged under the retention policy (docs/evidence.md, "Retention"). A purged message
 * keeps its metadata, receipt, digest and timeline; its envelope is reduced to the signed
 * routing header (`envelope_header`, the envelope's `header` member) and `content_purged_at`
 * says when. The sender's sealed copy goes too. The sweep reads the partial indexes: only
 * messages not purged yet, oldest first.
 */
export class ContentRetention1764590000000 implements MigrationInterface {
  name = 'ContentRetention1764590000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const statement of [
      `ALTER TABLE outbound_message ALTER COLUMN envelope DROP NOT NULL,
         ALTER COLUMN sender_copy DROP NOT NULL,
         ADD COLUMN envelope_header text,
         ADD COLUMN content_purged_at timestamptz,
         ADD CONSTRAINT outbound_message_content_or_purged CHECK (
           CASE WHEN content_purged_at IS NULL
             THEN envelope IS NOT NULL AND sender_copy IS NOT NULL
             ELSE envelope IS NULL AND sender_copy IS NULL AND envelope_header IS NOT NULL END)`,
      `ALTER TABLE inbound_message ALTER COLUMN envelope DROP NOT NULL,
         ADD COLUMN envelope_header text,
         ADD COLUMN content_purged_at timestamptz,
         ADD CONSTRAINT inbound_message_content_or_purged CHECK (
           CASE WHEN content_purged_at IS NULL THEN envelope IS NOT NULL
             ELSE envelope IS NULL AND envelope_header IS NOT NULL END)`,
      `CREATE INDEX outbound_message_retention_idx ON outbound_message (created_at)
         WHERE content_purged_at IS NULL`,
      `CREATE INDEX inbound_message_retention_idx ON inbound_message (received_at)
         WHERE content_purged_at IS NULL`,
    ]) {
      await queryRunner.query(statement);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Purged content cannot come back: going down with purged rows would break NOT NULL.
    const purged = (await queryRunner.query(
      `SELECT (SELECT count(*) FROM outbound_message WHERE content_purged_at IS NOT NULL)
            + (SELECT count(*) FROM inbound_message WHERE content_purged_at IS NOT NULL) AS n`,
    )) as Array<{ n: string }>;
    if (Number(purged[0]?.n ?? 0) > 0) {
      throw new Error(
        `${purged[0]!.n} messages have purged content: this migration cannot be reverted`,
      );
    }
    for (const statement of [
      `DROP INDEX inbound_message_retention_idx`,
      `DROP INDEX outbound_message_retention_idx`,
      `ALTER TABLE inbound_message DROP CONSTRAINT inbound_message_content_or_purged,
         DROP COLUMN content_purged_at, DROP COLUMN envelope_header,
         ALTER COLUMN envelope SET NOT NULL`,
      `ALTER TABLE outbound_message DROP CONSTRAINT outbound_message_content_or_purged,
         DROP COLUMN content_purged_at, DROP COLUMN envelope_header,
         ALTER COLUMN sender_copy SET NOT NULL, ALTER COLUMN envelope SET NOT NULL`,
    ]) {
      await queryRunner.query(statement);
    }
  }
}
