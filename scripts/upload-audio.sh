#!/usr/bin/env bash
# Upload the generated audio (audio/<locale>/*.mp3) to the stage's private S3 bucket and refresh
# CloudFront, so Alexa streams it from the HTTPS URL the Lambda already has in REFLECT_AUDIO_BASE_URL.
#
#   bash scripts/upload-audio.sh --stage prod [--region us-east-1] [--delete] [--dry-run]
#   bash scripts/upload-audio.sh --bucket NAME --distribution-id ID     # skip the stack lookup
#
# Needs the AWS CLI v2 and credentials for the account (the same ones `serverless deploy` used).
# The bucket name, distribution id and base URL come from the CloudFormation stack outputs of
# `reflection-guide-<stage>` (see serverless.yml). Only the MP3 files listed in
# audio/manifest.json are uploaded; the manifest itself ships inside the Lambda package.
set -euo pipefail
cd "$(dirname "$0")/.."

STAGE=dev
REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}"
BUCKET=""
DISTRIBUTION=""
DELETE=()
DRYRUN=()
while [ $# -gt 0 ]; do
  case "$1" in
    --stage) STAGE="$2"; shift 2 ;;
    --region) REGION="$2"; shift 2 ;;
    --bucket) BUCKET="$2"; shift 2 ;;
    --distribution-id) DISTRIBUTION="$2"; shift 2 ;;
    --delete) DELETE=(--delete); shift ;;
    --dry-run) DRYRUN=(--dryrun); shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

if ! command -v aws >/dev/null; then
  echo "the AWS CLI is not installed (https://docs.aws.amazon.com/cli/)" >&2
  exit 1
fi
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] && PYTHON=.venv/bin/python

# Every file the manifest names must exist locally before anything is uploaded.
"$PYTHON" - <<'PY'
import json, pathlib, sys
root = pathlib.Path("audio")
clips = json.loads((root / "manifest.json").read_text(encoding="utf-8"))["clips"]
missing = [c["file"] for c in clips if not (root / c["file"]).is_file()]
if missing:
    sys.exit(f"audio/manifest.json names missing files (run: python -m skill build-audio): {missing}")
print(f"{len(clips)} clips listed in audio/manifest.json, all present")
PY

STACK="reflection-guide-${STAGE}"
output() {
  aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
[ -n "$BUCKET" ] || BUCKET="$(output AudioBucketName)"
[ -n "$DISTRIBUTION" ] || DISTRIBUTION="$(output AudioDistributionId)"
if [ -z "$BUCKET" ] || [ "$BUCKET" = "None" ]; then
  echo "no AudioBucketName output on stack $STACK in $REGION: deploy first (npx serverless deploy --stage $STAGE)" >&2
  exit 1
fi

echo "uploading audio/ to s3://$BUCKET/ ..."
aws s3 sync audio/ "s3://$BUCKET/" --region "$REGION" \
  --exclude '*' --include '*/*.mp3' \
  --content-type audio/mpeg --cache-control 'public, max-age=86400' \
  --no-progress ${DELETE[@]+"${DELETE[@]}"} ${DRYRUN[@]+"${DRYRUN[@]}"}

if [ ${#DRYRUN[@]} -eq 0 ] && [ -n "$DISTRIBUTION" ] && [ "$DISTRIBUTION" != "None" ]; then
  aws cloudfront create-invalidation --distribution-id "$DISTRIBUTION" --paths '/*' \
    --query 'Invalidation.Id' --output text >/dev/null
  echo "CloudFront invalidation started for $DISTRIBUTION"
fi
BASE_URL="$( [ -n "$DISTRIBUTION" ] && output AudioBaseUrl 2>/dev/null || true )"
echo "done. REFLECT_AUDIO_BASE_URL on the Lambda: ${BASE_URL:-https://<distribution>.cloudfront.net}"
