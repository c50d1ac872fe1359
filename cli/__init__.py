import click

@click.group()
def main():
    """ledger"""
