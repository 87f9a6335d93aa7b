/** Account facts every layer needs, resolved once per stack from data sources. */
export interface AwsContext {
  readonly region: string;
  /** Token: `data.aws_caller_identity.current.account_id`. */
  readonly accountId: string;
  /** Token: `data.aws_partition.current.partition`. */
  readonly partition: string;
}
