"""One home for 'were these numbers measured on the same images?': results.json and
learning_curves.json record their images as an 'examples' record (which, source, sha256);
the reports that set several models' or checkpoints' numbers side by side compare them here."""

from run_support.errors import UserError


def describe_images(examples):
  """'first 500 test images of raw:...' of an 'examples' record; a record written before
  images were recorded (not a dict) reads 'unrecorded images'."""
  if not isinstance(examples, dict):
    return 'unrecorded images'
  return f'{examples.get("which")} of {examples.get("source")}'


def same_images(recorded, examples):
  """Whether two 'examples' records name the same images (count, order and data)."""
  return (isinstance(recorded, dict) and isinstance(examples, dict)
          and recorded.get('sha256') == examples.get('sha256'))


def check_same_images(rows):
  """`rows`: dicts with the 'dataset', 'folder', 'results' (path) and 'examples' of each
  model's results; UserError naming the first that measured another image set."""
  first = rows[0]['examples']
  for row in rows[1:]:
    if row['dataset'] != rows[0]['dataset']:
      raise UserError(f'{row["folder"]} is a {row["dataset"]} model, {rows[0]["folder"]} a '
                      f'{rows[0]["dataset"]} one: one dataset per report')
    if not same_images(row['examples'], first):
      raise UserError(f'{row["results"]} measured {describe_images(row["examples"])}, not the '
                      f'images of {rows[0]["results"]} ({describe_images(first)})')
