/**
 * The regions this project deploys to, and the Availability Zone letters each one has. A checked-in
 * table, so a typo'd or missing AZ fails at synth rather than at apply.
 *
 * Source: AWS, "AWS Availability Zones" (https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html)
 * and "AZ IDs" (https://docs.aws.amazon.com/global-infrastructure/latest/regions/az-ids.html). In the
 * oldest regions (us-east-1, us-west-1, us-west-2, ap-northeast-1, …) AWS maps zone letters to
 * physical zones per account, and older accounts see letters newer ones do not (ap-northeast-1b,
 * us-west-1b): those letters are listed, so the table admits every letter some account can have.
 * `aws ec2 describe-availability-zones --region <r>` shows the ones of yours.
 *
 * To add a region: add its letters from those pages (and check Bedrock serves the models you need).
 */
export const REGION_AZ_LETTERS: Readonly<Record<string, string>> = {
  "us-east-1": "abcdef",
  "us-east-2": "abc",
  "us-west-1": "abc",
  "us-west-2": "abcd",
  "ca-central-1": "abd",
  "ca-west-1": "abc",
  "sa-east-1": "abc",
  "eu-west-1": "abc",
  "eu-west-2": "abc",
  "eu-west-3": "abc",
  "eu-central-1": "abc",
  "eu-central-2": "abc",
  "eu-north-1": "abc",
  "eu-south-1": "abc",
  "eu-south-2": "abc",
  "ap-south-1": "abc",
  "ap-northeast-1": "abcd",
  "ap-northeast-2": "abcd",
  "ap-northeast-3": "abc",
  "ap-southeast-1": "abc",
  "ap-southeast-2": "abc",
};

/** Where an operator adds a region. */
export const REGION_TABLE_FIX = "or add the region with its AZ letters to lib/aws-regions.ts (from https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html)";

/** The supported regions, in table order. */
export const SUPPORTED_REGIONS: readonly string[] = Object.keys(REGION_AZ_LETTERS);

/** The AZ names of `region`, or undefined for a region outside the table. */
export function azsOf(region: string): string[] | undefined {
  const letters = REGION_AZ_LETTERS[region];
  return letters === undefined ? undefined : [...letters].map((l) => `${region}${l}`);
}
